using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Cache;

/// <summary>One verified cache entry: the model bytes (their SHA-256 checked against the entry) and the summary the run produced.</summary>
/// <param name="Key">The content address.</param>
/// <param name="Model">The quantized model's bytes.</param>
/// <param name="ModelSha256">Their SHA-256.</param>
/// <param name="Result">The target's summary, without paths.</param>
public sealed record CacheEntry(string Key, byte[] Model, string ModelSha256, TargetResult Result);
