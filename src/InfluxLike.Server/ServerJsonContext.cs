using System.Text.Json.Serialization;
using InfluxLike.Server.Http;

namespace InfluxLike.Server;

/// <summary>Source-generated JSON for every body the server writes or reads (NativeAOT needs no reflection).</summary>
[JsonSerializable(typeof(PingResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ReadyResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class ServerJsonContext : JsonSerializerContext
{
}
