namespace QuantBuild.Engine.Config;

/// <summary>A plugin metric or data reader, as config validation needs to know it.</summary>
/// <param name="Name">The qualified name written in the yaml, <c>id/name</c>.</param>
/// <param name="Kind">Metric or data reader.</param>
/// <param name="Provider">The plugin that provides it, for messages.</param>
/// <param name="OptionsType">The type its options bind to.</param>
/// <param name="NeedsLabels">For a metric: true when it reads <c>evaluation.labels</c>.</param>
/// <param name="Minimum">For a metric: its lowest value, or null for unbounded.</param>
/// <param name="Maximum">For a metric: its highest value, or null for unbounded.</param>
public sealed record KnownExtension(string Name, ExtensionKind Kind, string Provider, Type OptionsType, bool NeedsLabels = false,
    double? Minimum = null, double? Maximum = null);
