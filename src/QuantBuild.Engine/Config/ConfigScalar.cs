namespace QuantBuild.Engine.Config;

/// <summary>A yaml scalar, kept as written. <see cref="IsPlain"/> is false for quoted or block scalars.</summary>
public sealed record ConfigScalar(string Value, bool IsPlain, SourceLocation Location) : ConfigNode(Location)
{
    /// <summary>
    /// True for an empty plain value, <c>~</c> or <c>null</c>: yaml's null, which the loader treats as "not given"
    /// (a quoted "null" stays a string).
    /// </summary>
    public bool IsNull => IsPlain && (Value.Length == 0 || Value == "~" || Value is "null" or "Null" or "NULL");

    /// <inheritdoc/>
    public override string Describe() => IsNull ? "nothing" : $"'{Value}'";
}
