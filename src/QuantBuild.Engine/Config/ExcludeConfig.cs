namespace QuantBuild.Engine.Config;

/// <summary>Nodes a target keeps in fp32 (<c>exclude</c>); the report lists each with this as the reason.</summary>
public sealed record ExcludeConfig
{
    /// <summary>No exclusions.</summary>
    public static readonly ExcludeConfig None = new();

    /// <summary>Node names kept in fp32.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = Array.Empty<string>();

    /// <summary>Op types kept in fp32.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = Array.Empty<string>();
}
