namespace InfluxLike.LineProtocol;

/// <summary>
/// The type of a field value. The numbers are persisted (WAL entries, TSM block headers, the index):
/// never renumber them; PersistedEnumStabilityTests pins them.
/// </summary>
public enum FieldType : byte
{
    Float = 1,
    Integer = 2,
    Unsigned = 3,
    Boolean = 4,
    String = 5,
}
