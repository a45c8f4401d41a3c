using System.Text.RegularExpressions;
using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Binds <c>targets</c>: device profile, recipe, weight format, exclusions, gate override and output file, and checks
/// each against the device profile, so a recipe the device can't run fails here rather than on the device.
/// </summary>
internal sealed partial class TargetBinder
{
    private readonly ConfigReader _r;
    private readonly ConfigValidationOptions _options;
    private readonly string _outputDir;

    /// <summary>The longest pass time limit accepted: a week, far past any real pass and far inside TimeSpan's range.</summary>
    public const double MaxTimeoutSeconds = 7 * 24 * 3600;

    /// <summary>
    /// The longest output file name accepted, in UTF-8 bytes. File systems allow 255; the manifest name adds
    /// ".manifest.json" and the atomic writer's temp name adds a prefix and suffix, and all must fit.
    /// </summary>
    public const int MaxOutputNameBytes = 180;

    /// <summary>File names every run writes into the output folder itself; no target's model or manifest may take one.</summary>
    public static readonly IReadOnlyList<string> ReservedNames = ["quantbuild-report.md", "quantbuild-report.html", "rejected"];
    private readonly Func<ConfigNode, string, GateConfig?> _gate;
    private readonly Lazy<IReadOnlyCollection<KnownPass>?> _passes;

    public TargetBinder(ConfigReader reader, ConfigValidationOptions options, string outputDir, Func<ConfigNode, string, GateConfig?> gate,
        Func<IReadOnlyCollection<KnownPass>?>? loadPasses = null)
    {
        _r = reader;
        _options = options;
        _outputDir = outputDir;
        _gate = gate;
        _passes = new Lazy<IReadOnlyCollection<KnownPass>?>(() => options.KnownPasses ?? loadPasses?.Invoke());
    }

    /// <summary>Where the first per-target gate was written, if any.</summary>
    public SourceLocation? FirstGate { get; private set; }

    public IReadOnlyList<TargetConfig> Bind(ConfigEntry? targetsEntry, GateConfig? rootGate, SourceLocation top)
    {
        var targets = new List<TargetConfig>();
        ConfigNode? node = targetsEntry?.Value;
        if (node is null or ConfigScalar { IsNull: true })
        {
            _r.Error(ConfigErrorCodes.NoTargets, targetsEntry is null ? "missing required key 'targets'" : "'targets' is empty",
                "add at least one target, for example:  targets: { x64: { device: cpu-x64-vnni } }", targetsEntry?.Key.Location ?? top);
            return targets;
        }

        if (_r.AsMapping(node, "targets") is not { } map)
        {
            return targets;
        }

        if (map.Entries.Count == 0)
        {
            _r.Error(ConfigErrorCodes.NoTargets, "'targets' is empty",
                "add at least one target, for example:  targets: { x64: { device: cpu-x64-vnni } }", map.Location);
        }

        // Every file a target writes (its model and its manifest, shipped or under rejected/) against every other
        // target's and the run's own reports: a clash would silently overwrite one with the other.
        var written = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string reserved in ReservedNames)
        {
            written[Path.Combine(_outputDir, reserved)] = "the run's report";
        }

        foreach (ConfigEntry entry in map.Entries)
        {
            if (Target(entry, rootGate) is { } target)
            {
                string manifest = ModelFiles.ManifestFor(target.OutputPath);
                foreach (string file in new[] { target.OutputPath, manifest })
                {
                    if (written.TryGetValue(file, out string? other))
                    {
                        _r.Error(ConfigErrorCodes.BadName, $"target '{target.Name}' would write {file}, which {other} also writes",
                            $"give target '{target.Name}' its own 'output' file name (model.{target.Name}.onnx)", target.Location);
                        break;
                    }
                }

                written.TryAdd(target.OutputPath, $"target '{target.Name}'");
                written.TryAdd(manifest, $"target '{target.Name}' (its manifest)");
                targets.Add(target);
            }
        }

        return targets;
    }

    private TargetConfig? Target(ConfigEntry entry, GateConfig? rootGate)
    {
        string name = entry.Name;
        string path = $"targets.{name}";
        int before = _r.Errors.Count;
        if (!NamePattern().IsMatch(name))
        {
            _r.Error(ConfigErrorCodes.BadName, $"target name '{name}' is not usable in a file name",
                "use letters, digits, '.', '-' and '_' only, starting with a letter or digit", entry.Key.Location);
        }

        if (_r.AsMapping(entry.Value, path) is not { } map)
        {
            return null;
        }

        _r.CheckKeys(map, QuantizeConfigKeys.Target, path);
        DeviceProfile? device = Device(map, path, entry.Key.Location);
        WeightFormat weights = ConfigReader.Value(map, "weights") is { } wNode ? new WeightsBinder(_r).Bind(wNode, path + ".weights", device) : WeightsBinder.Default(device);
        IReadOnlyList<RecipePass> recipe = ConfigReader.Value(map, "recipe") is { } rNode ? Recipe(rNode, path + ".recipe", device) : Array.Empty<RecipePass>();

        ActivationsConfig activations = ConfigReader.Value(map, "activations") is { } aNode
            ? new ActivationsBinder(_r).Bind(aNode, path + ".activations", weights) : ActivationsConfig.Static;
        ExcludeConfig exclude = ExcludeConfig.None;
        if (ConfigReader.Value(map, "exclude") is { } xNode && _r.AsMapping(xNode, path + ".exclude") is { } x)
        {
            _r.CheckKeys(x, QuantizeConfigKeys.Exclude, path + ".exclude");
            exclude = new ExcludeConfig { Nodes = _r.StringList(x, "nodes", path + ".exclude.nodes"), OpTypes = _r.StringList(x, "op_types", path + ".exclude.op_types") };
        }

        GateConfig? gate = rootGate;
        if (ConfigReader.Value(map, "gate") is { } gNode)
        {
            FirstGate ??= map.Find("gate")!.Key.Location;
            if (_gate(gNode, path + ".gate") is { } own)
            {
                // A target's gate overrides key by key: 'gate: {max_drop: 1.0}' keeps the top-level floor.
                bool ownDrop = gNode is ConfigMapping gm && ConfigReader.Value(gm, "max_drop") is not null;
                gate = new GateConfig
                {
                    MaxDrop = ownDrop ? own.MaxDrop : rootGate?.MaxDrop,
                    MaxDropIsRelative = ownDrop ? own.MaxDropIsRelative : rootGate?.MaxDropIsRelative ?? false,
                    Min = own.Min ?? rootGate?.Min,
                    Location = own.Location,
                    MaxDropLocation = ownDrop ? own.MaxDropLocation : rootGate?.MaxDropLocation,
                    MinLocation = own.Min is not null ? own.MinLocation : rootGate?.MinLocation,
                };
            }
        }

        FallbackConfig? fallback = new FallbackBinder(_r).Bind(map, path);
        bool requireSpeedup = _r.Bool(map, "require_speedup", path + ".require_speedup") ?? false;
        string fileName = _r.String(map, "output", path + ".output") ?? $"model.{name}.onnx";
        if (fileName.Length == 0 || fileName is "." or ".." || fileName.IndexOfAny(['/', '\\', '\0']) >= 0 || fileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            _r.Error(ConfigErrorCodes.BadName, $"'{path}.output' must be a file name inside the output folder, got '{fileName}'",
                "write just the file name (model.x64.onnx); set the folder with the top-level 'output'", ConfigReader.At(map, "output", map.Location));
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(fileName) > MaxOutputNameBytes)
        {
            _r.Error(ConfigErrorCodes.BadName,
                $"'{path}' writes '{(fileName.Length > 40 ? fileName[..40] + "…" : fileName)}', a file name of {System.Text.Encoding.UTF8.GetByteCount(fileName)} bytes; at most {MaxOutputNameBytes} fit beside the manifest and temp-file names",
                "shorten the target name, or give the target a shorter 'output' file name", ConfigReader.At(map, "output", entry.Key.Location));
        }

        if (_r.Errors.Count > before || device is null)
        {
            return null;
        }

        return new TargetConfig
        {
            Name = name,
            Device = weights.DeployedOn(device),
            Recipe = recipe,
            Weights = weights,
            Activations = activations,
            Exclude = exclude,
            Gate = gate,
            OutputPath = Path.Combine(_outputDir, fileName),
            Fallback = fallback,
            RequireSpeedup = requireSpeedup,
            Location = entry.Key.Location,
        };
    }

    private DeviceProfile? Device(ConfigMapping map, string path, SourceLocation keyAt)
    {
        string? name = _r.String(map, "device", path + ".device");
        if (name is null)
        {
            if (ConfigReader.Value(map, "device") is null)
            {
                _r.Missing("device", path, keyAt, $"add 'device:' with one of: {string.Join(", ", _options.Devices.Keys.Order(StringComparer.Ordinal))}");
            }

            return null;
        }

        if (_options.Devices.TryGetValue(name, out DeviceProfile? profile))
        {
            return profile;
        }

        IEnumerable<string> known = _options.Devices.Keys.Order(StringComparer.Ordinal);
        _r.Error(ConfigErrorCodes.UnknownDevice,
            $"unknown device profile '{name}'.{NameSuggester.DidYouMean(name, known)}",
            $"use one of: {string.Join(", ", known)}", map.Find("device")!.Value.Location);
        return null;
    }

    private IReadOnlyList<RecipePass> Recipe(ConfigNode node, string path, DeviceProfile? device)
    {
        var passes = new List<RecipePass>();
        if (_r.AsSequence(node, path) is not { } seq)
        {
            return passes;
        }

        foreach (ConfigNode item in seq.Items)
        {
            RecipePass? pass = item switch
            {
                // "- smoothquant" is a pass with default options.
                ConfigScalar { IsNull: false } s => new RecipePass { Name = s.Value, Options = new ConfigMapping(Array.Empty<ConfigEntry>(), s.Location), Location = s.Location },
                ConfigMapping m => FromMapping(m, path),
                _ => null,
            };
            if (pass is null)
            {
                if (item is not ConfigMapping)
                {
                    _r.WrongType(item, path + " item", "a pass ('- pass: name' with its options)");
                }

                continue;
            }

            CheckPass(pass, device);
            passes.Add(pass);
        }

        return passes;
    }

    private RecipePass? FromMapping(ConfigMapping m, string path)
    {
        ConfigEntry? nameEntry = m.Find(QuantizeConfigKeys.Pass);
        if (nameEntry is null || nameEntry.Value is not ConfigScalar { IsNull: false } nameNode)
        {
            if (nameEntry is null)
            {
                _r.Missing(QuantizeConfigKeys.Pass, path, m.Location, "start each recipe step with 'pass: <name>'; its other keys are that pass's options");
            }
            else
            {
                _r.WrongType(nameEntry.Value, path + ".pass", "a pass name");
            }

            return null;
        }

        // timeout_seconds belongs to the host (it limits any pass), so it never reaches the pass's own options.
        double? timeout = _r.Number(m, QuantizeConfigKeys.PassTimeout, $"{path}.{QuantizeConfigKeys.PassTimeout}");
        if (timeout is <= 0 or > MaxTimeoutSeconds)
        {
            // The upper bound keeps TimeSpan.FromSeconds in range (1e12 once aborted every target with QB0001).
            _r.Error(ConfigErrorCodes.OutOfRange, $"'{path}.{QuantizeConfigKeys.PassTimeout}' must be from more than 0 to {MaxTimeoutSeconds} seconds (7 days), got {ConfigReader.Format(timeout.Value)}",
                "give the pass's time limit in seconds, or remove the key for the default", m.Find(QuantizeConfigKeys.PassTimeout)!.Value.Location);
            timeout = null;
        }

        var options = new ConfigMapping(m.Entries.Where(e => e.Name is not (QuantizeConfigKeys.Pass or QuantizeConfigKeys.PassTimeout)).ToList(), m.Location);
        return new RecipePass { Name = nameNode.Value, Options = options, Location = nameNode.Location, TimeoutSeconds = timeout };
    }

    private void CheckPass(RecipePass pass, DeviceProfile? device)
    {
        if (_passes.Value is not { } known)
        {
            return;
        }

        KnownPass? match = known.FirstOrDefault(k => k.Name == pass.Name);
        if (match is null)
        {
            string list = known.Count == 0 ? "none are loaded"
                : "known passes: " + string.Join(", ", known.OrderBy(k => k.Name, StringComparer.Ordinal).Select(k => $"{k.Name} ({k.Provider})"));
            _r.Error(ConfigErrorCodes.UnknownPass,
                $"unknown pass '{pass.Name}'.{NameSuggester.DidYouMean(pass.Name, known.Select(k => k.Name))} ({list})",
                "fix the name, or add the plugin that provides it under 'plugins' ('quantbuild plugins' lists what is loaded)", pass.Location);
            return;
        }

        if (device is not null && match.SupportsDevice is { } supports && Contained<bool?>(match, pass, () => supports(device)) == false)
        {
            _r.Error(ConfigErrorCodes.NotSupportedByDevice, $"pass '{pass.Name}' ({match.Provider}) cannot target device '{device.Name}'",
                "remove the pass from this target's recipe, or use a device profile it supports", pass.Location);
        }

        if (match.OptionsType is { } type)
        {
            Contained(match, pass, () => PassOptionsBinder.Bind(type, pass.Options, _r.Errors, pass.Name));
        }
    }

    // Binding options runs the plugin's constructors and setters, and SupportsDevice is its code too: a throw there is
    // the plugin's fault, reported as such at the recipe line (as the run does), never as a QuantBuild bug.
    private T? Contained<T>(KnownPass match, RecipePass pass, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (e is not (OutOfMemoryException or Abstractions.Diagnostics.QuantBuildException))
        {
            Exception inner = e is System.Reflection.TargetInvocationException { InnerException: { } thrown } ? thrown : e;
            _r.Error(Plugins.PluginErrorCodes.OptionsFailed,
                $"pass '{pass.Name}' (plugin '{match.Provider}') threw while its options were checked: {inner.GetType().FullName}: {inner.Message}",
                "check this step's options against the plugin's documentation; if they are valid, report it to the plugin's author", pass.Location);
            return default;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();
}
