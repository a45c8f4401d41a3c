namespace QuantBuild.Engine.Analysis;

/// <summary>The QB41xx codes of analysis, fallback and the kernel check; docs/errors.md has a row for each.</summary>
public static class AnalysisErrors
{
    /// <summary>The target has no layer the encoder quantizes, so there is nothing to analyse or fall back from.</summary>
    public const string NothingToAnalyse = "QB4100";

    /// <summary>fallback: auto used its whole budget without a model that passes the gate.</summary>
    public const string FallbackExhausted = "QB4101";

    /// <summary>The size budget cannot be met even with every layer at the recipe's lowest bit width.</summary>
    public const string SizeUnreachable = "QB4102";

    /// <summary>The quantized model is not faster than fp32 on this machine (an error with require_speedup: true, else a warning).</summary>
    public const string NotFaster = "QB4103";

    /// <summary>The kernel check could not run (the runtime could not write or the loader could not read the optimized model).</summary>
    public const string KernelCheckFailed = "QB4104";
}
