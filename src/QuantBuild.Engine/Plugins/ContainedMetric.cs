using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Plugins;

/// <summary>A plugin's metric with every call contained (<see cref="Contained"/>); its traits are read once, here.</summary>
internal sealed class ContainedMetric : IMetric
{
    private readonly IMetric _inner;
    private readonly PluginInfo _plugin;
    private readonly string _what;
    private readonly SourceLocation _at;

    public ContainedMetric(IMetric inner, PluginInfo plugin, string what, SourceLocation at)
    {
        _inner = inner;
        _plugin = plugin;
        _what = what;
        _at = at;
        (Name, Unit, HigherIsBetter, NeedsLabels, NeedsReference, IdealValue) = Contained.Call(plugin, what, at,
            () => (inner.Name, inner.Unit ?? string.Empty, inner.HigherIsBetter, inner.NeedsLabels, inner.NeedsReference, inner.IdealValue));
    }

    public string Name { get; }

    public string Unit { get; }

    public bool HigherIsBetter { get; }

    public bool NeedsLabels { get; }

    public bool NeedsReference { get; }

    public double IdealValue { get; }

    public IMetricAccumulator Start() => new Accumulator(Contained.Call(_plugin, _what, _at, _inner.Start), this);

    private sealed class Accumulator(IMetricAccumulator inner, ContainedMetric owner) : IMetricAccumulator
    {
        public void Add(MetricBatch batch) => Contained.Call(owner._plugin, owner._what, owner._at, () => inner.Add(batch));

        public double Result() => Contained.Call(owner._plugin, owner._what, owner._at, inner.Result);
    }
}
