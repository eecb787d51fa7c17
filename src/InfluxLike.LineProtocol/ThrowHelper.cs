using System.Diagnostics.CodeAnalysis;

namespace InfluxLike.LineProtocol;

// Throws live out of line so the hot paths that call them stay small enough to inline.
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName) => throw new ArgumentOutOfRangeException(paramName);

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) => throw new InvalidOperationException(message);

    [DoesNotReturn]
    public static void ThrowArgument(string message, string paramName) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static T WrongType<T>(FieldType actual, FieldType wanted)
        where T : allows ref struct
        => throw new InvalidOperationException($"The field is of type {actual}, not {wanted}.");
}
