using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using InfluxLike.Storage.IO;

namespace InfluxLike.Server.Security;

/// <summary>A token's record. The token itself is never stored: only its SHA-256.</summary>
public sealed record AuthorizationInfo
{
    public required string Id { get; init; }

    public required string OrgId { get; init; }

    public string? UserId { get; init; }

    public string Description { get; init; } = "";

    /// <summary><c>active</c> or <c>inactive</c> (an inactive token is refused).</summary>
    public string Status { get; init; } = "active";

    /// <summary>Hex SHA-256 of the token's UTF-8 bytes.</summary>
    public required string TokenHash { get; init; }

    public required Permission[] Permissions { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public bool IsActive => Status == "active";

    public bool Allows(string action, string type, string? orgId, string? id = null) =>
        IsActive && Permissions.Any(p => p.Allows(action, type, orgId, id));
}

public sealed record UserInfo
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// Users and authorizations (tokens with permissions) of a data folder, in one JSON file replaced atomically
/// and durably. Tokens are 256 random bits; only their SHA-256 is kept (a random 256-bit secret needs no slow
/// hash: there is nothing to guess from), and a presented token's hash is compared in constant time.
/// </summary>
public sealed class AuthStore
{
    public const string FileName = "auth.json";

    private readonly string _path;
    private readonly object _lock = new();
    private AuthData _data;
    private Dictionary<string, AuthorizationInfo> _byHash;

    private AuthStore(string path, AuthData data)
    {
        _path = path;
        _data = data;
        _byHash = Index(data);
    }

    /// <summary>True once the first-run setup (or the --init-* options) created the operator token.</summary>
    public bool IsSetUp
    {
        get
        {
            lock (_lock)
            {
                return _data.SetUp;
            }
        }
    }

    public IReadOnlyList<AuthorizationInfo> Authorizations
    {
        get
        {
            lock (_lock)
            {
                return [.. _data.Authorizations];
            }
        }
    }

    public IReadOnlyList<UserInfo> Users
    {
        get
        {
            lock (_lock)
            {
                return [.. _data.Users];
            }
        }
    }

    public static AuthStore Open(string dataDir)
    {
        string path = Path.Combine(dataDir, FileName);
        if (!File.Exists(path))
        {
            return new AuthStore(path, new AuthData());
        }

        try
        {
            return new AuthStore(path, JsonSerializer.Deserialize(File.ReadAllBytes(path), AuthJson.Default.AuthData) ?? new AuthData());
        }
        catch (JsonException e)
        {
            throw new ServerConfigurationException($"{path} is not valid JSON ({e.Message}); restore it from a backup");
        }
    }

    /// <summary>A new token: 32 random bytes, base64url without padding (43 characters).</summary>
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The active authorization the token belongs to, or null.</summary>
    public AuthorizationInfo? Authenticate(string token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        AuthorizationInfo? found;
        lock (_lock)
        {
            _byHash.TryGetValue(Convert.ToHexStringLower(hash), out found);
        }

        // The lookup finds a candidate; equality is then decided in constant time over the whole hash.
        return found is not null && CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(found.TokenHash)) && found.IsActive
            ? found
            : null;
    }

    /// <summary>
    /// Creates an authorization; returns it with its token, which is shown this once. A given token (the
    /// --init-token option) is used as it is; otherwise a random one is made.
    /// </summary>
    public (AuthorizationInfo Authorization, string Token) Create(string orgId, string? userId, string description, Permission[] permissions, string? token = null, string status = "active", bool completesSetup = false)
    {
        foreach (Permission p in permissions)
        {
            if (p.Validate() is { } error)
            {
                throw new ArgumentException(error);
            }
        }

        if (status is not ("active" or "inactive"))
        {
            throw new ArgumentException($"invalid status \"{status}\": use \"active\" or \"inactive\"");
        }

        token ??= NewToken();
        var now = DateTimeOffset.UtcNow;
        var auth = new AuthorizationInfo
        {
            Id = NewId(),
            OrgId = orgId,
            UserId = userId,
            Description = description,
            Status = status,
            TokenHash = Hash(token),
            Permissions = permissions,
            CreatedAt = now,
            UpdatedAt = now,
        };
        lock (_lock)
        {
            if (_byHash.ContainsKey(auth.TokenHash))
            {
                throw new ArgumentException("that token is already in use");
            }

            Save(_data with { Authorizations = [.. _data.Authorizations, auth], SetUp = _data.SetUp || completesSetup });
        }

        return (auth, token);
    }

    public AuthorizationInfo? Get(string id)
    {
        lock (_lock)
        {
            return _data.Authorizations.FirstOrDefault(a => a.Id == id);
        }
    }

    public AuthorizationInfo? Update(string id, string? status, string? description)
    {
        if (status is not (null or "active" or "inactive"))
        {
            throw new ArgumentException($"invalid status \"{status}\": use \"active\" or \"inactive\"");
        }

        lock (_lock)
        {
            AuthorizationInfo? old = _data.Authorizations.FirstOrDefault(a => a.Id == id);
            if (old is null)
            {
                return null;
            }

            var updated = old with { Status = status ?? old.Status, Description = description ?? old.Description, UpdatedAt = DateTimeOffset.UtcNow };
            Save(_data with { Authorizations = [.. _data.Authorizations.Select(a => a.Id == id ? updated : a)] });
            return updated;
        }
    }

    public bool Delete(string id)
    {
        lock (_lock)
        {
            if (!_data.Authorizations.Any(a => a.Id == id))
            {
                return false;
            }

            Save(_data with { Authorizations = [.. _data.Authorizations.Where(a => a.Id != id)] });
            return true;
        }
    }

    /// <summary>Removes the authorizations of a deleted organisation.</summary>
    public void DeleteForOrg(string orgId)
    {
        lock (_lock)
        {
            if (_data.Authorizations.Any(a => a.OrgId == orgId))
            {
                Save(_data with { Authorizations = [.. _data.Authorizations.Where(a => a.OrgId != orgId)] });
            }
        }
    }

    /// <summary>A user (the first-run one), found again if it exists. Passwords are not kept: sign-in is by token.</summary>
    public UserInfo GetOrCreateUser(string name)
    {
        lock (_lock)
        {
            if (_data.Users.FirstOrDefault(u => u.Name == name) is { } known)
            {
                return known;
            }

            var user = new UserInfo { Id = NewId(), Name = name, CreatedAt = DateTimeOffset.UtcNow };
            Save(_data with { Users = [.. _data.Users, user] });
            return user;
        }
    }

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static Dictionary<string, AuthorizationInfo> Index(AuthData data) =>
        data.Authorizations.ToDictionary(a => a.TokenHash, StringComparer.Ordinal);

    private void Save(AuthData data)
    {
        FileSystem.WriteAllBytesDurably(_path, JsonSerializer.SerializeToUtf8Bytes(data, AuthJson.Default.AuthData));
        _data = data;
        _byHash = Index(data);
    }
}

internal sealed record AuthData
{
    public int Version { get; init; } = 1;

    /// <summary>Set with the operator token; from then on first-run setup is refused.</summary>
    public bool SetUp { get; init; }

    public UserInfo[] Users { get; init; } = [];

    public AuthorizationInfo[] Authorizations { get; init; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, IgnoreReadOnlyProperties = true)]
[JsonSerializable(typeof(AuthData))]
internal sealed partial class AuthJson : JsonSerializerContext
{
}
