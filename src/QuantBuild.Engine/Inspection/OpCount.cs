namespace QuantBuild.Engine.Inspection;

/// <summary>How many nodes use one operator, counting nodes inside subgraphs.</summary>
/// <param name="OpType">The operator, prefixed with its domain when not the default (for example <c>com.microsoft.FusedConv</c>).</param>
/// <param name="Count">Number of nodes.</param>
public sealed record OpCount(string OpType, int Count);
