namespace QuantBuild.Abstractions.Ir;

/// <summary>One dimension of a declared shape: a number, a symbolic name such as <c>batch</c>, or unknown.</summary>
public sealed class Dimension
{
    /// <summary>The fixed size, or null.</summary>
    public long? Value { get; set; }

    /// <summary>The symbolic name, or null.</summary>
    public string? Param { get; set; }

    /// <summary>Optional semantic denotation, for example <c>DATA_BATCH</c>.</summary>
    public string? Denotation { get; set; }

    /// <summary>A fixed dimension.</summary>
    public static Dimension Fixed(long value) => new() { Value = value };

    /// <summary>A symbolic dimension.</summary>
    public static Dimension Symbolic(string name) => new() { Param = name };

    /// <summary>The number, the symbol, or <c>?</c>.</summary>
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";
}
