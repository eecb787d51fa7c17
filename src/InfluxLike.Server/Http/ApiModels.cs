using System.Text.Json.Serialization;
using InfluxLike.Server.Security;

namespace InfluxLike.Server.Http;

// InfluxDB 2.x's JSON shapes for organisations, buckets, authorizations and setup (the official clients
// read these). Property names are spelled as InfluxDB spells them (orgID, not orgId).

internal sealed record Links(
    [property: JsonPropertyName("self")] string Self);

internal sealed record OrgDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("links")] Links Links);

internal sealed record OrgsDto(
    [property: JsonPropertyName("links")] Links Links,
    [property: JsonPropertyName("orgs")] OrgDto[] Orgs);

internal sealed record PostOrgRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description);

internal sealed record RetentionRuleDto(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("everySeconds")] long EverySeconds,
    [property: JsonPropertyName("shardGroupDurationSeconds")] long? ShardGroupDurationSeconds);

internal sealed record BucketDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("orgID")] string OrgId,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("retentionRules")] RetentionRuleDto[] RetentionRules,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("links")] Links Links,
    [property: JsonPropertyName("labels")] string[] Labels,
    [property: JsonPropertyName("maxSizeBytes")] long MaxSizeBytes);

internal sealed record BucketsDto(
    [property: JsonPropertyName("links")] Links Links,
    [property: JsonPropertyName("buckets")] BucketDto[] Buckets);

internal sealed record PostBucketRequest(
    [property: JsonPropertyName("orgID")] string? OrgId,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("retentionRules")] RetentionRuleDto[]? RetentionRules,
    [property: JsonPropertyName("maxSizeBytes")] long? MaxSizeBytes = null);

internal sealed record PatchBucketRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("retentionRules")] RetentionRuleDto[]? RetentionRules,
    [property: JsonPropertyName("maxSizeBytes")] long? MaxSizeBytes = null);

internal sealed record AuthorizationDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Token,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("orgID")] string OrgId,
    [property: JsonPropertyName("org")] string? Org,
    [property: JsonPropertyName("userID"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? UserId,
    [property: JsonPropertyName("permissions")] Permission[] Permissions,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("links")] Links Links);

internal sealed record AuthorizationsDto(
    [property: JsonPropertyName("links")] Links Links,
    [property: JsonPropertyName("authorizations")] AuthorizationDto[] Authorizations);

internal sealed record PostAuthorizationRequest(
    [property: JsonPropertyName("orgID")] string? OrgId,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("userID")] string? UserId,
    [property: JsonPropertyName("permissions")] Permission[]? Permissions);

internal sealed record PatchAuthorizationRequest(
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("description")] string? Description);

internal sealed record UserDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("links")] Links Links);

internal sealed record SetupAllowedDto(
    [property: JsonPropertyName("allowed")] bool Allowed);

internal sealed record SetupRequest(
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("password")] string? Password,
    [property: JsonPropertyName("org")] string? Org,
    [property: JsonPropertyName("bucket")] string? Bucket,
    [property: JsonPropertyName("retentionPeriodSeconds")] long? RetentionPeriodSeconds,
    [property: JsonPropertyName("retentionPeriodHrs")] long? RetentionPeriodHrs,
    [property: JsonPropertyName("token")] string? Token);

internal sealed record SetupResponse(
    [property: JsonPropertyName("user")] UserDto User,
    [property: JsonPropertyName("org")] OrgDto Org,
    [property: JsonPropertyName("bucket")] BucketDto Bucket,
    [property: JsonPropertyName("auth")] AuthorizationDto Auth);

internal sealed record DeleteRequest(
    [property: JsonPropertyName("start")] string? Start,
    [property: JsonPropertyName("stop")] string? Stop,
    [property: JsonPropertyName("predicate")] string? Predicate);

/// <summary>InfluxDB 1.x's error body, which Telegraf's v1 output reads: <c>{"error": "..."}</c>.</summary>
internal sealed record V1Error(
    [property: JsonPropertyName("error")] string Error);

// The storage status view and the compaction trigger (InfluxLike's own; InfluxDB has no equivalent).

internal sealed record CompactionProgressDto(
    [property: JsonPropertyName("level")] int Level,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("inputFiles")] int InputFiles,
    [property: JsonPropertyName("inputBytes")] long InputBytes,
    [property: JsonPropertyName("bytesWritten")] long BytesWritten,
    [property: JsonPropertyName("started")] DateTimeOffset Started);

internal sealed record ShardStatusDto(
    [property: JsonPropertyName("start")] string Start,
    [property: JsonPropertyName("end")] string End,
    [property: JsonPropertyName("files")] int Files,
    [property: JsonPropertyName("fileBytes")] long FileBytes,
    [property: JsonPropertyName("cacheBytes")] long CacheBytes,
    [property: JsonPropertyName("filesPerLevel")] Dictionary<string, int> FilesPerLevel,
    [property: JsonPropertyName("filesWithDeletes")] int FilesWithDeletes,
    [property: JsonPropertyName("compactionDue")] bool CompactionDue,
    [property: JsonPropertyName("compaction")] CompactionProgressDto? Compaction);

internal sealed record StorageBucketDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shards")] ShardStatusDto[] Shards);

internal sealed record DeleteProgressDto(
    [property: JsonPropertyName("bucketID")] string BucketId,
    [property: JsonPropertyName("started")] DateTimeOffset Started,
    [property: JsonPropertyName("series")] long Series,
    [property: JsonPropertyName("checked")] long Checked,
    [property: JsonPropertyName("removedFromIndex")] long Removed,
    [property: JsonPropertyName("done")] bool Done,
    [property: JsonPropertyName("error")] string? Error);

internal sealed record StorageStatusDto(
    [property: JsonPropertyName("compactionQueue")] int CompactionQueue,
    [property: JsonPropertyName("compactionsRunning")] int CompactionsRunning,
    [property: JsonPropertyName("lastCompactionError")] string? LastCompactionError,
    [property: JsonPropertyName("freeDiskBytes")] long FreeDiskBytes,
    [property: JsonPropertyName("minFreeDiskBytes")] long MinFreeDiskBytes,
    [property: JsonPropertyName("writesRefused")] bool WritesRefused,
    [property: JsonPropertyName("deletes")] DeleteProgressDto[] Deletes,
    [property: JsonPropertyName("buckets")] StorageBucketDto[] Buckets);

internal sealed record CompactResponseDto(
    [property: JsonPropertyName("compactions")] int Compactions,
    [property: JsonPropertyName("inputBytes")] long InputBytes,
    [property: JsonPropertyName("outputBytes")] long OutputBytes,
    [property: JsonPropertyName("seconds")] double Seconds);

// Tasks (InfluxDB 2.x's /api/v2/tasks shapes, trimmed to what we run) and declarative rollups (ours).

internal sealed record TaskDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("orgID")] string OrgId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("flux")] string Flux,
    [property: JsonPropertyName("every"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Every,
    [property: JsonPropertyName("cron"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Cron,
    [property: JsonPropertyName("offset")] string Offset,
    [property: JsonPropertyName("description"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    [property: JsonPropertyName("latestCompleted")] DateTimeOffset LatestCompleted,
    [property: JsonPropertyName("lastRunStatus"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastRunStatus,
    [property: JsonPropertyName("lastRunError"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastRunError,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("links")] Links Links);

internal sealed record TasksDto([property: JsonPropertyName("tasks")] TaskDto[] Tasks);

internal sealed record PostTaskRequest(
    [property: JsonPropertyName("orgID")] string? OrgId,
    [property: JsonPropertyName("org")] string? Org,
    [property: JsonPropertyName("flux")] string? Flux,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("description")] string? Description);

internal sealed record PatchTaskRequest(
    [property: JsonPropertyName("flux")] string? Flux,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("description")] string? Description);

internal sealed record RunLogDto(
    [property: JsonPropertyName("runID")] string RunId,
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("message")] string Message);

internal sealed record RunDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("taskID")] string TaskId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("scheduledFor")] DateTimeOffset ScheduledFor,
    [property: JsonPropertyName("windowStart")] DateTimeOffset WindowStart,
    [property: JsonPropertyName("windowStop")] DateTimeOffset WindowStop,
    [property: JsonPropertyName("trigger")] string Trigger,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("finishedAt")] DateTimeOffset? FinishedAt,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonPropertyName("log")] RunLogDto[] Log);

internal sealed record RunsDto([property: JsonPropertyName("runs")] RunDto[] Runs);

internal sealed record RollupLevelRequest(
    [property: JsonPropertyName("every")] string? Every,
    [property: JsonPropertyName("functions")] string[]? Functions,
    [property: JsonPropertyName("bucket")] string? Bucket,
    [property: JsonPropertyName("retention")] string? Retention);

internal sealed record RollupRequest(
    [property: JsonPropertyName("orgID")] string? OrgId,
    [property: JsonPropertyName("bucket")] string? Bucket,
    [property: JsonPropertyName("measurement")] string? Measurement,
    [property: JsonPropertyName("retention")] string? Retention,
    [property: JsonPropertyName("levels")] RollupLevelRequest[]? Levels);

internal sealed record RollupResponse(
    [property: JsonPropertyName("buckets")] BucketDto[] Buckets,
    [property: JsonPropertyName("tasks")] TaskDto[] Tasks);

internal sealed record RemoteDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("orgID")] string OrgId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    [property: JsonPropertyName("remoteURL")] string RemoteUrl,
    [property: JsonPropertyName("remoteOrgID")] string RemoteOrgId,
    [property: JsonPropertyName("allowInsecureTLS")] bool AllowInsecureTls);

internal sealed record RemotesDto([property: JsonPropertyName("remotes")] RemoteDto[] Remotes);

/// <summary>POST and PATCH of a remote (PATCH: every field optional).</summary>
internal sealed record RemoteRequest(
    [property: JsonPropertyName("orgID")] string? OrgId,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("remoteURL")] string? RemoteUrl,
    [property: JsonPropertyName("remoteAPIToken")] string? RemoteApiToken,
    [property: JsonPropertyName("remoteOrgID")] string? RemoteOrgId,
    [property: JsonPropertyName("allowInsecureTLS")] bool? AllowInsecureTls);

internal sealed record ReplicationDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("orgID")] string OrgId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    [property: JsonPropertyName("remoteID")] string RemoteId,
    [property: JsonPropertyName("localBucketID")] string LocalBucketId,
    [property: JsonPropertyName("remoteBucketID"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RemoteBucketId,
    [property: JsonPropertyName("remoteBucketName"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RemoteBucketName,
    [property: JsonPropertyName("maxQueueSizeBytes")] long MaxQueueSizeBytes,
    [property: JsonPropertyName("maxAgeSeconds")] long MaxAgeSeconds,
    [property: JsonPropertyName("dropNonRetryableData")] bool DropNonRetryableData,
    [property: JsonPropertyName("currentQueueSizeBytes")] long CurrentQueueSizeBytes,
    [property: JsonPropertyName("remainingBytesToBeSynced")] long RemainingBytesToBeSynced,
    [property: JsonPropertyName("latestResponseCode"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LatestResponseCode,
    [property: JsonPropertyName("latestErrorMessage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LatestErrorMessage,
    [property: JsonPropertyName("latestSentAt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? LatestSentAt,
    [property: JsonPropertyName("sentPoints")] long SentPoints,
    [property: JsonPropertyName("droppedPoints")] long DroppedPoints,
    [property: JsonPropertyName("failedAttempts")] long FailedAttempts,
    [property: JsonPropertyName("lagSeconds")] double LagSeconds);

internal sealed record ReplicationsDto([property: JsonPropertyName("replications")] ReplicationDto[] Replications);

/// <summary>POST and PATCH of a replication (PATCH: every field optional; orgID, localBucketID fixed).</summary>
internal sealed record ReplicationRequest(
    [property: JsonPropertyName("orgID")] string? OrgId,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("remoteID")] string? RemoteId,
    [property: JsonPropertyName("localBucketID")] string? LocalBucketId,
    [property: JsonPropertyName("remoteBucketID")] string? RemoteBucketId,
    [property: JsonPropertyName("remoteBucketName")] string? RemoteBucketName,
    [property: JsonPropertyName("maxQueueSizeBytes")] long? MaxQueueSizeBytes,
    [property: JsonPropertyName("maxAgeSeconds")] long? MaxAgeSeconds,
    [property: JsonPropertyName("dropNonRetryableData")] bool? DropNonRetryableData);
internal sealed record DashboardsDto([property: JsonPropertyName("dashboards")] InfluxLike.Server.Dashboards.Dashboard[] Dashboards);

/// <summary><c>POST /api/v2/query/format</c>: the script in, its canonical form out.</summary>
internal sealed record FormatRequest([property: JsonPropertyName("query")] string? Query);

internal sealed record FormatResponse([property: JsonPropertyName("query")] string Query);

internal sealed record SuggestionsDto([property: JsonPropertyName("funcs")] SuggestionDto[] Funcs);

internal sealed record SuggestionDto(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("package")] string Package,
    [property: JsonPropertyName("params")] SuggestionParameterDto[] Params);

internal sealed record SuggestionParameterDto(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("required")] bool Required);
