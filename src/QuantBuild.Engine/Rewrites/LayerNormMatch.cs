namespace QuantBuild.Engine.Rewrites;

/// <summary>One decomposed LayerNorm found by <see cref="LayerNormPattern"/>.</summary>
/// <param name="Nodes">Display names of every node of the pattern, in graph order.</param>
/// <param name="Input">The normalised tensor.</param>
/// <param name="Output">The value the pattern produces (after the shift, the scale or the division, whichever is last).</param>
/// <param name="Gamma">The constant scale, or null when the pattern has none.</param>
/// <param name="Beta">The constant shift, or null when the pattern has none.</param>
/// <param name="Epsilon">The constant added to the variance, when it is a constant scalar.</param>
internal sealed record LayerNormMatch(IReadOnlyList<string> Nodes, string Input, string Output, string? Gamma, string? Beta, float? Epsilon);
