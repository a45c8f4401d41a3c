namespace QuantBuild.Engine.Config;

/// <summary>A yaml sequence (list), items in the order written.</summary>
public sealed record ConfigSequence(IReadOnlyList<ConfigNode> Items, SourceLocation Location) : ConfigNode(Location)
{
    /// <inheritdoc/>
    public override string Describe() => "a list";
}
