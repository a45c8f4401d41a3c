namespace QuantBuild.Engine.Config;

/// <summary>Where a value was written: the file and the 1-based line and column of its first character.</summary>
/// <param name="File">Absolute path of the yaml file.</param>
/// <param name="Line">1-based line, or 0 when unknown.</param>
/// <param name="Column">1-based column, or 0 when unknown.</param>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}({Line},{Column})";
}
