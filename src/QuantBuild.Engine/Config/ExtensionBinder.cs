namespace QuantBuild.Engine.Config;

/// <summary>
/// Binds what quantize.yaml asks of plugins besides passes: <c>data: { reader: id/name, path, options }</c> and
/// <c>evaluation.metric: id/name</c> with <c>metric_options</c>. Names and options are checked against the loaded
/// plugins once the <c>plugins</c> section is read, each error at its own line and column, like pass options.
/// </summary>
internal sealed class ExtensionBinder
{
    private readonly ConfigReader _r;
    private readonly Lazy<IReadOnlyCollection<KnownExtension>?> _known;

    public ExtensionBinder(ConfigReader reader, ConfigValidationOptions options, Func<IReadOnlyCollection<KnownExtension>?>? load)
    {
        _r = reader;
        _known = new Lazy<IReadOnlyCollection<KnownExtension>?>(() => options.KnownExtensions ?? load?.Invoke());
    }

    /// <summary>
    /// A reader mapping: its keys, the reader's name shape (<c>id/name</c>), the path (resolved by <paramref name="resolve"/>
    /// and checked by <paramref name="exists"/>) and the options mapping. Null after reporting an error.
    /// </summary>
    public DataSourceConfig? Reader(ConfigMapping map, string path, Func<string, string> resolve, Func<ConfigNode, string, string, string, bool> exists)
    {
        _r.CheckKeys(map, QuantizeConfigKeys.DataReader, path);
        string? reader = _r.String(map, "reader", path + ".reader");
        if (reader is not null && !IsQualified(reader))
        {
            _r.Error(ConfigErrorCodes.UnknownValue, $"'{path}.reader' is '{reader}'; a data reader is named <plugin id>/<reader>",
                "write the plugin's id and the reader's name, for example 'reader: contoso/images' ('quantbuild plugins list' shows both)", map.Find("reader")!.Value.Location);
            reader = null;
        }

        string? raw = _r.String(map, "path", path + ".path");
        if (raw is null && ConfigReader.Value(map, "path") is null)
        {
            _r.Missing("path", path, map.Location, "add 'path:', the file or folder the reader reads");
        }

        string? full = raw is null ? null : resolve(raw);
        if (raw is not null && full is not null && !exists(map.Find("path")!.Value, path + ".path", raw, full))
        {
            full = null;
        }

        ConfigMapping? options = OptionsOf(map, "options", path + ".options");
        return reader is null || full is null || options is null ? null
            : new DataSourceConfig { Kind = DataSourceKind.Reader, Reader = reader, Path = full, ReaderOptions = options, Location = map.Find("reader")!.Value.Location };
    }

    /// <summary>The mapping under <paramref name="key"/>, empty when absent; null after reporting a non-mapping.</summary>
    public ConfigMapping? OptionsOf(ConfigMapping map, string key, string path)
    {
        ConfigNode? node = ConfigReader.Value(map, key);
        return node is null ? new ConfigMapping(Array.Empty<ConfigEntry>(), map.Find(key)?.Key.Location ?? map.Location) : _r.AsMapping(node, path);
    }

    /// <summary>The plugin metric <paramref name="name"/> as validation knows it, or null (unknown, reported; or plugins not known).</summary>
    public KnownExtension? Metric(string name, ConfigMapping options, SourceLocation at) => Check(name, ExtensionKind.Metric, options, at, "evaluation.metric");

    /// <summary>Checks a reader source's name and options against the loaded plugins.</summary>
    public void CheckReader(DataSourceConfig source, string path) =>
        Check(source.Reader!, ExtensionKind.DataReader, source.ReaderOptions!, source.Location, path + ".reader");

    /// <summary>True for <c>id/name</c>.</summary>
    public static bool IsQualified(string name) => name.IndexOf('/', StringComparison.Ordinal) is > 0 and var i && i < name.Length - 1 && name.IndexOf('/', i + 1) < 0;

    private KnownExtension? Check(string name, ExtensionKind kind, ConfigMapping options, SourceLocation at, string path)
    {
        if (_known.Value is not { } known)
        {
            return null;
        }

        List<KnownExtension> sameKind = known.Where(k => k.Kind == kind).OrderBy(k => k.Name, StringComparer.Ordinal).ToList();
        KnownExtension? match = sameKind.FirstOrDefault(k => k.Name == name);
        string what = kind == ExtensionKind.Metric ? "metric" : "data reader";
        if (match is null)
        {
            string list = sameKind.Count == 0 ? $"the loaded plugins provide no {what}s" : $"plugin {what}s: {string.Join(", ", sameKind.Select(k => k.Name))}";
            _r.Error(ConfigErrorCodes.UnknownValue, $"'{path}': unknown {what} '{name}'.{NameSuggester.DidYouMean(name, sameKind.Select(k => k.Name))} ({list})",
                $"fix the name, or add the plugin that provides it under 'plugins' ('quantbuild plugins list' shows each plugin's {what}s)", at);
            return null;
        }

        try
        {
            PassOptionsBinder.Bind(match.OptionsType, options, _r.Errors, name);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or Abstractions.Diagnostics.QuantBuildException))
        {
            // The options type is the plugin's code: a throw there is its fault, at the options' line, never QB0001.
            Exception inner = e is System.Reflection.TargetInvocationException { InnerException: { } thrown } ? thrown : e;
            _r.Error(Plugins.PluginErrorCodes.OptionsFailed,
                $"{what} '{name}' (plugin '{match.Provider}') threw while its options were checked: {inner.GetType().FullName}: {inner.Message}",
                "check the options against the plugin's documentation; if they are valid, report it to the plugin's author", options.Location);
        }

        return match;
    }
}
