using System.Text.Json.Serialization;

namespace InfluxLike.Server.Http;

/// <summary>InfluxDB 2.x's error body: <c>{"code": "invalid", "message": "..."}</c>.</summary>
internal sealed record ErrorResponse(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);
