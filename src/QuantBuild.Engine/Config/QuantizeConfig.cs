using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Config;

/// <summary>
/// A validated quantize.yaml, frozen: every path absolute, every default applied, every target's gate merged with
/// the top-level one. Only <see cref="QuantizeConfigLoader"/> makes these, and only when the file had no errors.
/// </summary>
public sealed record QuantizeConfig
{
    /// <summary>Absolute path of the yaml file.</summary>
    public required string ConfigPath { get; init; }

    /// <summary>The yaml's folder: every relative path in it is resolved from here.</summary>
    public required string BaseDirectory { get; init; }

    /// <summary>Absolute path of the fp32 model.</summary>
    public required string ModelPath { get; init; }

    /// <summary>Absolute path of the output folder (default <c>quantized</c> beside the yaml).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Model inputs fed a constant rather than data, in the order written (empty when none).</summary>
    public IReadOnlyList<InputBindingConfig> Inputs { get; init; } = Array.Empty<InputBindingConfig>();

    /// <summary>The calibration data and method.</summary>
    public required CalibrationConfig Calibration { get; init; }

    /// <summary>The evaluation data and metric, or null when the run reports no accuracy (then no gate applies).</summary>
    public EvaluationConfig? Evaluation { get; init; }

    /// <summary>The top-level gate as written (targets carry their merged gate), or null for none.</summary>
    public GateConfig? Gate { get; init; }

    /// <summary>Third-party plugins in the order written; first-party plugins are always loaded and not listed.</summary>
    public required IReadOnlyList<PluginReference> Plugins { get; init; }

    /// <summary>The <c>cache</c> section (lock wait, remote store); defaults when the yaml has none.</summary>
    public CacheConfig Cache { get; init; } = new();

    /// <summary>The targets in the order written; at least one.</summary>
    public required IReadOnlyList<TargetConfig> Targets { get; init; }

    /// <summary>True when calibration or evaluation reads through a plugin: a data reader or a metric (<c>id/name</c>).</summary>
    public bool UsesPluginExtensions =>
        Calibration.Data.Kind == DataSourceKind.Reader || Evaluation?.Data.Kind == DataSourceKind.Reader || Evaluation?.IsPluginMetric == true;

    /// <summary>The targets named in <paramref name="names"/> in yaml order, or all of them when it is empty.</summary>
    /// <exception cref="QuantBuildException">QB1019: a name is not a target of this config.</exception>
    public IReadOnlyList<TargetConfig> SelectTargets(IReadOnlyCollection<string> names)
    {
        if (names.Count == 0)
        {
            return Targets;
        }

        var known = Targets.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (string name in names)
        {
            if (!known.ContainsKey(name))
            {
                throw new QuantBuildException("QB1019", $"There is no target named '{name}'.{NameSuggester.DidYouMean(name, known.Keys)}",
                    $"pick one of: {string.Join(", ", known.Keys)}", ConfigPath);
            }
        }

        return Targets.Where(t => names.Contains(t.Name)).ToList();
    }
}
