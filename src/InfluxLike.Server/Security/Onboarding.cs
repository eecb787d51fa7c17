using InfluxLike.Storage.Engine;

namespace InfluxLike.Server.Security;

/// <summary>What first-run setup created; the token is shown this once.</summary>
public sealed record OnboardingResult(UserInfo User, OrgInfo Org, BucketInfo Bucket, AuthorizationInfo Authorization, string Token);

/// <summary>
/// First-run setup: a user, an organisation, a bucket and an operator token, as InfluxDB's
/// <c>/api/v2/setup</c> and <c>DOCKER_INFLUXDB_INIT_*</c> do. Safe to repeat after a crash half-way: the
/// organisation and bucket are found again; setup counts as done once the user and token exist.
/// </summary>
public static class Onboarding
{
    /// <exception cref="InvalidOperationException">Setup was already done.</exception>
    /// <exception cref="ArgumentException">A value is missing or invalid.</exception>
    public static OnboardingResult Run(StorageEngine engine, AuthStore auth, string username, string orgName, string bucketName, TimeSpan retention, string? token)
    {
        if (auth.IsSetUp)
        {
            throw new InvalidOperationException("onboarding has already been completed");
        }

        if (string.IsNullOrWhiteSpace(username) || string.IsNullOrWhiteSpace(orgName) || string.IsNullOrWhiteSpace(bucketName))
        {
            throw new ArgumentException("setup needs a username, an org and a bucket");
        }

        if (token is { Length: < 8 })
        {
            throw new ArgumentException("the operator token must be at least 8 characters long");
        }

        OrgInfo org = engine.Catalog.GetOrCreateOrg(orgName);
        BucketInfo bucket = engine.Catalog.FindBucket(org.Id, bucketName) ?? engine.Catalog.CreateBucket(org.Id, bucketName, retention);
        UserInfo user = auth.GetOrCreateUser(username);
        var (authorization, t) = auth.Create(org.Id, user.Id, username + "'s Token", Permission.Operator(), token, completesSetup: true);
        return new OnboardingResult(user, org, bucket, authorization, t);
    }
}
