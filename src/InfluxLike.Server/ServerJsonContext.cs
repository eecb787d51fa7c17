using System.Text.Json.Serialization;
using InfluxLike.Server.Http;

namespace InfluxLike.Server;

/// <summary>Source-generated JSON for every body the server writes or reads (NativeAOT needs no reflection).</summary>
[JsonSerializable(typeof(PingResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ReadyResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(OrgDto))]
[JsonSerializable(typeof(OrgsDto))]
[JsonSerializable(typeof(PostOrgRequest))]
[JsonSerializable(typeof(BucketDto))]
[JsonSerializable(typeof(BucketsDto))]
[JsonSerializable(typeof(PostBucketRequest))]
[JsonSerializable(typeof(PatchBucketRequest))]
[JsonSerializable(typeof(AuthorizationDto))]
[JsonSerializable(typeof(AuthorizationsDto))]
[JsonSerializable(typeof(PostAuthorizationRequest))]
[JsonSerializable(typeof(PatchAuthorizationRequest))]
[JsonSerializable(typeof(SetupAllowedDto))]
[JsonSerializable(typeof(SetupRequest))]
[JsonSerializable(typeof(SetupResponse))]
[JsonSerializable(typeof(DeleteRequest))]
[JsonSerializable(typeof(V1Error))]
[JsonSerializable(typeof(StorageStatusDto))]
[JsonSerializable(typeof(TaskDto))]
[JsonSerializable(typeof(TasksDto))]
[JsonSerializable(typeof(PostTaskRequest))]
[JsonSerializable(typeof(PatchTaskRequest))]
[JsonSerializable(typeof(RunDto))]
[JsonSerializable(typeof(RunsDto))]
[JsonSerializable(typeof(RollupRequest))]
[JsonSerializable(typeof(RollupResponse))]
[JsonSerializable(typeof(CompactResponseDto))]
[JsonSerializable(typeof(DashboardsDto))]
[JsonSerializable(typeof(InfluxLike.Server.Dashboards.Dashboard))]
[JsonSerializable(typeof(InfluxLike.Server.Dashboards.DashboardRequest))]
[JsonSerializable(typeof(FormatRequest))]
[JsonSerializable(typeof(FormatResponse))]
[JsonSerializable(typeof(SuggestionsDto))]
[JsonSerializable(typeof(string))]
internal sealed partial class ServerJsonContext : JsonSerializerContext
{
}
