namespace QuantBuild.Engine.Inspection;

/// <summary>One imported operator set.</summary>
/// <param name="Domain">The domain, <c>ai.onnx</c> for the default one.</param>
/// <param name="Version">The version.</param>
public sealed record OpsetSummary(string Domain, long Version);
