using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// The plugins of one run: the first-party ones QuantBuild ships plus exactly those quantize.yaml names, each in
/// its own collectible load context. A plugin that fails to load is listed with its QB20xx error instead of
/// failing the whole run: only targets whose recipe needs it fail. Disposing the host unloads every context.
/// </summary>
public sealed class PluginHost : IDisposable
{
    private readonly List<LoadedPlugin> _plugins;
    private readonly Dictionary<string, (IQuantizationPass Pass, PluginInfo Plugin)> _passes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (IMetricProvider Metric, PluginInfo Plugin)> _metrics = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (IDataReader Reader, PluginInfo Plugin)> _readers = new(StringComparer.Ordinal);
    private bool _disposed;

    private PluginHost(List<LoadedPlugin> plugins, PluginHostOptions options)
    {
        Options = options;
        _plugins = plugins;
        for (int i = 0; i < _plugins.Count; i++)
        {
            LoadedPlugin plugin = _plugins[i];
            if (!plugin.Info.Loaded)
            {
                continue;
            }

            if (Clash(plugin) is { } error)
            {
                _plugins[i] = plugin.Refused(error);
                continue;
            }

            foreach (IQuantizationPass pass in plugin.Passes)
            {
                _passes[pass.Name] = (pass, plugin.Info);
            }

            foreach (IMetricProvider metric in plugin.Metrics)
            {
                _metrics[$"{plugin.Info.Id}/{metric.Name}"] = (metric, plugin.Info);
            }

            foreach (IDataReader reader in plugin.Readers)
            {
                _readers[$"{plugin.Info.Id}/{reader.Name}"] = (reader, plugin.Info);
            }
        }
    }

    /// <summary>The options the host was loaded with.</summary>
    public PluginHostOptions Options { get; }

    /// <summary>Every plugin the host tried to load, first-party first, then in the order the yaml lists them.</summary>
    public IReadOnlyList<PluginInfo> Plugins => _plugins.Select(p => p.Info).ToList();

    /// <summary>Plugins that failed to load.</summary>
    public IReadOnlyList<PluginInfo> Failures => _plugins.Where(p => !p.Info.Loaded).Select(p => p.Info).ToList();

    /// <summary>Every available pass by name.</summary>
    public IReadOnlyDictionary<string, IQuantizationPass> Passes => _passes.ToDictionary(p => p.Key, p => p.Value.Pass, StringComparer.Ordinal);

    /// <summary>The passes as config validation needs them (name, providing plugin, options type, device check).</summary>
    public IReadOnlyCollection<KnownPass> KnownPasses =>
        _passes.Values.Select(p => new KnownPass(p.Pass.Name, p.Plugin.Name, p.Pass.OptionsType, p.Pass.SupportsDevice)).ToList();

    /// <summary>The plugin metrics and data readers as config validation needs them, by qualified name (<c>id/name</c>).</summary>
    public IReadOnlyCollection<KnownExtension> KnownExtensions =>
        _metrics.Select(m => new KnownExtension(m.Key, ExtensionKind.Metric, m.Value.Plugin.Name, m.Value.Metric.OptionsType,
                m.Value.Metric.NeedsLabels, m.Value.Metric.Minimum, m.Value.Metric.Maximum))
            .Concat(_readers.Select(r => new KnownExtension(r.Key, ExtensionKind.DataReader, r.Value.Plugin.Name, r.Value.Reader.OptionsType)))
            .ToList();

    /// <summary>The metric provider called <paramref name="qualifiedName"/> (<c>id/name</c>) and its plugin, or null.</summary>
    public (IMetricProvider Metric, PluginInfo Plugin)? FindMetric(string qualifiedName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _metrics.TryGetValue(qualifiedName, out var found) ? found : null;
    }

    /// <summary>The data reader called <paramref name="qualifiedName"/> (<c>id/name</c>) and its plugin, or null.</summary>
    public (IDataReader Reader, PluginInfo Plugin)? FindReader(string qualifiedName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _readers.TryGetValue(qualifiedName, out var found) ? found : null;
    }

    /// <summary>Loads the first-party plugins and those <paramref name="config"/> names.</summary>
    public static PluginHost Load(QuantizeConfig config, PluginHostOptions? options = null) =>
        Load(config.Plugins, config.BaseDirectory, options);

    /// <summary>Loads the first-party plugins and <paramref name="references"/> (from a yaml in <paramref name="configDirectory"/>).</summary>
    public static PluginHost Load(IReadOnlyList<PluginReference> references, string configDirectory, PluginHostOptions? options = null)
    {
        options ??= PluginHostOptions.Default;
        var plugins = new List<LoadedPlugin>();
        if (Directory.Exists(options.FirstPartyDirectory))
        {
            foreach (string folder in Directory.GetDirectories(options.FirstPartyDirectory).Order(StringComparer.Ordinal))
            {
                plugins.Add(PluginLoader.Load(Path.GetFileName(folder), PluginSource.FirstParty, folder, sha256: null));
            }
        }

        foreach (PluginReference reference in references)
        {
            plugins.Add(reference.Package is { } id
                ? PluginLoader.Load(id, PluginSource.Package, id, reference.Sha256,
                    () => PackageRestorer.Restore(id, reference.Version!, configDirectory, options.PackagesDirectory), reference.Version)
                : PluginLoader.Load(Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(reference.Path!)), PluginSource.Path,
                    reference.Path!, reference.Sha256));
        }

        return new PluginHost(plugins, options);
    }

    /// <summary>The pass named <paramref name="name"/> and its plugin, or null.</summary>
    public (IQuantizationPass Pass, PluginInfo Plugin)? Find(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _passes.TryGetValue(name, out var found) ? found : null;
    }

    /// <summary>Drops every pass and unloads every plugin's context; memory is freed once nothing else references plugin objects.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _passes.Clear();
        _metrics.Clear();
        _readers.Clear();
        foreach (LoadedPlugin plugin in _plugins)
        {
            plugin.Context?.Unload();
        }

        for (int i = 0; i < _plugins.Count; i++)
        {
            _plugins[i] = _plugins[i] with { Passes = Array.Empty<IQuantizationPass>(), Metrics = Array.Empty<IMetricProvider>(), Readers = Array.Empty<IDataReader>(), Context = null };
        }
    }

    // A pass name, an id or a code block that an earlier plugin has: the later plugin is refused, the earlier one kept
    // (first-party plugins load first, so a third party cannot shadow them).
    private Abstractions.Diagnostics.QuantBuildException? Clash(LoadedPlugin plugin)
    {
        if (plugin.Passes.Select(p => p.Name).FirstOrDefault(_passes.ContainsKey) is { } pass)
        {
            return new(PluginErrorCodes.DuplicatePass,
                $"plugin '{plugin.Info.Name}' provides pass '{pass}', which plugin '{_passes[pass].Plugin.Name}' already provides; it was not loaded",
                "remove one of the two plugins from quantize.yaml");
        }

        foreach (LoadedPlugin other in _plugins.TakeWhile(p => !ReferenceEquals(p, plugin)).Where(p => p.Info.Loaded))
        {
            if (other.Info.Id == plugin.Info.Id)
            {
                return new(PluginErrorCodes.BadIdentity, $"plugin '{plugin.Info.Name}' has id '{plugin.Info.Id}', which plugin '{other.Info.Name}' already has; it was not loaded",
                    "remove one of the two plugins from quantize.yaml, or ask one author to change its [QuantBuildPlugin] id");
            }

            if (plugin.Info.CodeBlock is int block && other.Info.CodeBlock == block)
            {
                return new(PluginErrorCodes.BadIdentity,
                    $"plugin '{plugin.Info.Name}' claims diagnostic codes {PluginCodes.Range(block)}, which plugin '{other.Info.Name}' already claims; it was not loaded",
                    "remove one of the two plugins from quantize.yaml, or ask one author to claim a free block (docs/plugins.md lists the blocks taken)");
            }
        }

        return null;
    }
}
