using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;

namespace QuantBuild.Engine.Evaluation;

/// <summary>The metrics by their quantize.yaml names: the built-in ones, and plugins' (<c>id/name</c>).</summary>
public static class Metrics
{
    /// <summary>
    /// The metric <paramref name="evaluation"/> names: a plugin's from <paramref name="plugins"/> (its options bound, its
    /// calls contained), else a built-in one; null for an unknown built-in name.
    /// </summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">A plugin metric is unavailable or failed to create.</exception>
    public static IMetric? Create(EvaluationConfig evaluation, PluginHost? plugins, string configDirectory) =>
        evaluation.IsPluginMetric
            ? PluginExtensions.CreateMetric(plugins, evaluation, configDirectory)
            : Create(evaluation.Metric, evaluation.K, evaluation.DictionaryPath);

    /// <summary>
    /// The metric called <paramref name="name"/>, or null. <paramref name="k"/> is used by <c>topk</c>;
    /// <paramref name="dictionaryPath"/> by <c>ctc_exact_line</c>, which config validation never lets go without one.
    /// </summary>
    public static IMetric? Create(string name, int? k = null, string? dictionaryPath = null) => name switch
    {
        "top1" => new TopKMetric(1),
        "top5" => new TopKMetric(5),
        "topk" => new TopKMetric(k ?? 5, $"top{k ?? 5}"),
        "agreement" => new AgreementMetric(),
        "cosine" => new CosineMetric(),
        "sqnr" => new SqnrMetric(),
        "max_abs_error" => new MaxAbsErrorMetric(),
        "box_fscore" => new BoxFScoreMetric(),
        "decision_agreement" => new DecisionAgreementMetric(),
        "ctc_exact_line" => CtcExactLineMetric.Load(dictionaryPath ?? throw new ArgumentNullException(nameof(dictionaryPath), "ctc_exact_line needs a dictionary.")),
        _ => null,
    };
}
