using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// Creates the plugin metrics and opens the plugin data readers a quantize.yaml names (<c>id/name</c>): finds them in
/// the run's plugins, binds their options as config validation did, and hands back objects whose every call into the
/// plugin is contained (QB2022, or the plugin's own code from its block).
/// </summary>
public static class PluginExtensions
{
    /// <summary>Opens <paramref name="source"/> (a <see cref="DataSourceKind.Reader"/>) for <paramref name="inputs"/>.</summary>
    /// <exception cref="QuantBuildException">The reader is unavailable, its options are invalid, or it failed to open.</exception>
    public static IDataSource OpenData(PluginHost? plugins, DataSourceConfig source, IReadOnlyList<ValueInfo> inputs, string configDirectory)
    {
        string name = source.Reader ?? throw new ArgumentException("not a reader source", nameof(source));
        (IDataReader reader, PluginInfo plugin) = plugins?.FindReader(name) ?? throw Unavailable(plugins, name, "data reader", source.Location);
        object options = BindOptions(reader.OptionsType, source.ReaderOptions, name);
        string what = $"data reader '{name}' (plugin '{plugin.Name}' {plugin.Version}) reading {source.Path}";
        var request = new DataReaderRequest { Path = source.Path!, ConfigDirectory = configDirectory, Inputs = inputs };
        IDataSource opened = Contained.Call(plugin, what, source.Location, () => reader.Open(request, options));
        return new ContainedDataSource(opened, plugin, what, source.Location, inputs.Select(i => i.Name).ToList());
    }

    /// <summary>Creates the plugin metric <paramref name="evaluation"/> names.</summary>
    /// <exception cref="QuantBuildException">The metric is unavailable, its options are invalid, or it failed to create.</exception>
    public static IMetric CreateMetric(PluginHost? plugins, EvaluationConfig evaluation, string configDirectory)
    {
        (IMetricProvider provider, PluginInfo plugin) = plugins?.FindMetric(evaluation.Metric) ?? throw Unavailable(plugins, evaluation.Metric, "metric", evaluation.Location);
        object options = BindOptions(provider.OptionsType, evaluation.MetricOptions, evaluation.Metric);
        string what = $"metric '{evaluation.Metric}' (plugin '{plugin.Name}' {plugin.Version})";
        IMetric metric = Contained.Call(plugin, what, evaluation.Location, () => provider.Create(new MetricRequest { ConfigDirectory = configDirectory }, options));
        return new ContainedMetric(metric, plugin, what, evaluation.Location);
    }

    private static object BindOptions(Type type, ConfigMapping? options, string name)
    {
        var errors = new List<QuantBuildException>();
        object? bound = PassOptionsBinder.Bind(type, options ?? new ConfigMapping(Array.Empty<ConfigEntry>(), default), errors, name);
        return errors.Count > 0 || bound is null ? throw new ConfigValidationException(errors) : bound;
    }

    private static QuantBuildException Unavailable(PluginHost? plugins, string name, string kind, SourceLocation at)
    {
        if (plugins?.Failures is { Count: > 0 } failed)
        {
            PluginInfo first = failed[0];
            return new QuantBuildException(first.ErrorCode!, $"{kind} '{name}' is unavailable: plugin '{first.Name}' failed to load: {first.Error}",
                "fix the plugin load error above; 'quantbuild plugins list' shows every plugin and its error", at.File, at.Line, at.Column);
        }

        return new QuantBuildException(PluginErrorCodes.UnknownExtension,
            $"no loaded plugin provides {kind} '{name}' (<plugin id>/<name>)",
            $"fix the name, or add the plugin that provides it under 'plugins' ('quantbuild plugins list' shows each plugin's id and {kind}s)", at.File, at.Line, at.Column);
    }
}
