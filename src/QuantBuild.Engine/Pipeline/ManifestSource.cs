namespace QuantBuild.Engine.Pipeline;

/// <summary>The fp32 model every manifest of a run traces back to.</summary>
/// <param name="ModelPath">The model's path (the manifest records its file name only).</param>
/// <param name="ModelSha256">SHA-256 of the model file, hex.</param>
public sealed record ManifestSource(string ModelPath, string ModelSha256);
