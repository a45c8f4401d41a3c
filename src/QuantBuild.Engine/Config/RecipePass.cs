namespace QuantBuild.Engine.Config;

/// <summary>
/// One step of a target's recipe: the pass name and its raw options (every key but <c>pass</c>), positions kept,
/// for the pass to bind with <see cref="PassOptionsBinder"/>.
/// </summary>
public sealed record RecipePass
{
    /// <summary>The pass name, as written after <c>pass:</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The pass's options; empty when it has none.</summary>
    public required ConfigMapping Options { get; init; }

    /// <summary>The pass's time limit in seconds (<c>timeout_seconds</c>), or null for the host's default.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Where the pass name was written.</summary>
    public SourceLocation Location { get; init; }
}
