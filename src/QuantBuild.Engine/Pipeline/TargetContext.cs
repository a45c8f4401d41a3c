using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Plugins;
using Serilog;

namespace QuantBuild.Engine.Pipeline;

/// <summary>What one target's stages read: its config, where it ships, and the run's shared, read-only results.</summary>
/// <param name="Target">The target.</param>
/// <param name="OutputPath">Where its model ships.</param>
/// <param name="Run">The validated run.</param>
/// <param name="Loaded">The fp32 model (rewritten), its data and the scratch folder.</param>
/// <param name="Baseline">fp32's score on the gate's data, or null without evaluation.</param>
/// <param name="Plugins">The plugins recipes run from, or null.</param>
/// <param name="BudgetBytes">This target's share of the memory budget (see <see cref="TargetParallelism"/>).</param>
/// <param name="Log">The target's log (tagged with its name when targets run in parallel).</param>
/// <param name="Cancellation">Stops the run.</param>
internal sealed record TargetContext(TargetConfig Target, string OutputPath, ValidatedRun Run, LoadedRun Loaded, EvaluationResult? Baseline,
    PluginHost? Plugins, long BudgetBytes, ILogger Log, CancellationToken Cancellation)
{
    public QuantizeConfig Config => Run.Config;

    public RunData Data => Loaded.Data;

    /// <summary>The model every target starts from: the rewritten fp32 model.</summary>
    public OnnxModel Model => Loaded.Model;

    /// <summary>What <c>method: auto</c> chose per activation (set by the calibrate stage), for the report; empty otherwise.</summary>
    public IReadOnlyDictionary<string, Calibration.RangeChoice> RangeChoices { get; set; } = new Dictionary<string, Calibration.RangeChoice>();

    /// <summary>
    /// Tensors calibration could not observe (Loop/Scan body tensors whose shape changes between iterations), with the
    /// reason (set by the calibrate stage); the encoder gives it to the nodes that needed their ranges.
    /// </summary>
    public IReadOnlyDictionary<string, string> Unobserved { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The plan's encode options with what calibration could not observe.</summary>
    public Quantization.EncodeOptions EncodeOptions(TargetPlan plan) => Unobserved.Count == 0 ? plan.Options : plan.Options with { Unobserved = Unobserved };
}
