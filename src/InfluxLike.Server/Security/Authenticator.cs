using System.Text;
using Microsoft.AspNetCore.Http;

namespace InfluxLike.Server.Security;

/// <summary>
/// Finds the authorization of a request from its token: <c>Authorization: Token …</c> (or <c>Bearer …</c>),
/// and for the v1 API also HTTP Basic with the token as password or the <c>u</c>/<c>p</c> query parameters.
/// With authentication turned off every request acts with operator rights.
/// </summary>
public sealed class Authenticator(AuthStore store, LiveOptions options)
{
    /// <summary>What a request may do when authentication is off.</summary>
    public static readonly AuthorizationInfo Unauthenticated = new()
    {
        Id = "0000000000000000",
        OrgId = "",
        Description = "authentication disabled",
        TokenHash = "",
        Permissions = Permission.Operator(),
    };

    public AuthStore Store => store;

    public bool Enabled => options.Current.AuthEnabled;

    /// <summary>The request's authorization, or null when it has no valid active token.</summary>
    public AuthorizationInfo? Authenticate(HttpRequest request, bool allowV1Credentials)
    {
        if (!options.Current.AuthEnabled)
        {
            return Unauthenticated;
        }

        string? token = ExtractToken(request, allowV1Credentials);
        return token is null ? null : store.Authenticate(token);
    }

    internal static string? ExtractToken(HttpRequest request, bool allowV1Credentials)
    {
        string header = request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            int space = header.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0)
            {
                string scheme = header[..space];
                string value = header[(space + 1)..].Trim();
                if (scheme.Equals("Token", StringComparison.OrdinalIgnoreCase) || scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }

                if (allowV1Credentials && scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
                {
                    try
                    {
                        string pair = Encoding.UTF8.GetString(Convert.FromBase64String(value));
                        int colon = pair.IndexOf(':', StringComparison.Ordinal);
                        return colon >= 0 ? pair[(colon + 1)..] : null;
                    }
                    catch (FormatException)
                    {
                        return null;
                    }
                }
            }

            return null;
        }

        return allowV1Credentials && request.Query["p"] is { Count: > 0 } p ? p.ToString() : null;
    }
}
