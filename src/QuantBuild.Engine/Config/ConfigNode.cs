namespace QuantBuild.Engine.Config;

/// <summary>
/// One node of a parsed yaml document with the position it was written at. The engine's own tree rather than
/// YamlDotNet's, so plugins and callers never see a YamlDotNet type and every value can be blamed on its line.
/// </summary>
public abstract record ConfigNode(SourceLocation Location)
{
    /// <summary>How the node reads in an error message: the scalar text, or "a mapping" / "a list".</summary>
    public abstract string Describe();
}
