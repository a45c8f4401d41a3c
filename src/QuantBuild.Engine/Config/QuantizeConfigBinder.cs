using QuantBuild.Engine.Evaluation;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Config;

/// <summary>
/// Binds the top level, calibration, evaluation, gate and plugins; targets are <see cref="TargetBinder"/>'s. Each
/// section is read even when an earlier one failed so every error surfaces in one run; the typed config is built
/// only from a file with no errors.
/// </summary>
internal sealed class QuantizeConfigBinder
{
    private readonly ConfigReader _r;
    private readonly string _file;
    private readonly string _baseDir;
    private readonly ConfigValidationOptions _options;
    private ExtensionBinder _extensions;
    private MetricInfo? _pluginMetric;

    public QuantizeConfigBinder(ConfigReader reader, string file, ConfigValidationOptions options)
    {
        _r = reader;
        _file = file;
        _baseDir = Path.GetDirectoryName(file)!;
        _options = options;
        _extensions = new ExtensionBinder(reader, options, null);
    }

    public QuantizeConfig? Bind(ConfigNode? rootNode)
    {
        var top = new SourceLocation(_file, 1, 1);
        ConfigMapping? root = rootNode is null ? new ConfigMapping(Array.Empty<ConfigEntry>(), top) : _r.AsMapping(rootNode, "quantize.yaml");
        if (root is null)
        {
            return null;
        }

        _r.CheckKeys(root, QuantizeConfigKeys.Root, string.Empty);

        string? model = RequiredFile(root, "model", "model", top, "name the fp32 model, for example 'model: model.onnx'");
        string rawOutput = _r.String(root, "output", "output") ?? "quantized";
        if (rawOutput.Contains('\0') || rawOutput.Length == 0)
        {
            _r.Error(ConfigErrorCodes.BadName, $"'output' must name a folder, got '{rawOutput.Replace("\0", "\\0", StringComparison.Ordinal)}'",
                "write a folder path without NUL characters, for example 'output: quantized'", ConfigReader.At(root, "output", top));
        }

        string output = Resolve(rawOutput);
        if (OutputBlockedBy(output) is { } file)
        {
            // Found now rather than when the first model is written, after minutes of quantizing.
            _r.Error(ConfigErrorCodes.BadName, $"'output' must name a folder, but {file} is a file",
                "name a folder that does not exist yet or is a folder, for example 'output: quantized'", ConfigReader.At(root, "output", top));
        }

        // Plugins first: calibration and evaluation may name their data readers and metrics.
        IReadOnlyList<PluginReference> plugins = ConfigReader.Value(root, "plugins") is { } pluginsNode ? Plugins(pluginsNode) : Array.Empty<PluginReference>();
        IReadOnlyList<PluginReference> loadable = plugins.Where(p => p.Path is not null || (p.Package is not null && p.Version is not null)).ToList();
        bool allLoadable = loadable.Count == plugins.Count;
        _extensions = new ExtensionBinder(_r, _options,
            _options.ExtensionsFor is { } loadExtensions && allLoadable ? () => loadExtensions(loadable, _baseDir) : null);

        CalibrationConfig? calibration = null;
        if (ConfigReader.Value(root, "calibration") is { } calNode)
        {
            calibration = Calibration(calNode, root.Find("calibration")!.Key.Location);
        }
        else
        {
            _r.Missing("calibration", string.Empty, top, "add a 'calibration' section with 'data:' pointing at representative inputs");
        }

        IReadOnlyList<InputBindingConfig> inputs = ConfigReader.Value(root, "inputs") is { } inputsNode
            ? new InputBindingBinder(_r).Bind(inputsNode)
            : Array.Empty<InputBindingConfig>();

        EvaluationConfig? evaluation = ConfigReader.Value(root, "evaluation") is { } evalNode
            ? Evaluation(evalNode, root.Find("evaluation")!.Key.Location)
            : null;
        MetricInfo? metric = evaluation is null ? null : _pluginMetric ?? _options.Metrics.FirstOrDefault(m => m.Name == evaluation.Metric);

        GateConfig? gate = ConfigReader.Value(root, "gate") is { } gateNode ? Gate(gateNode, "gate", metric) : null;

        CacheConfig? cache = ConfigReader.Value(root, "cache") is { } cacheNode ? new CacheBinder(_r).Bind(cacheNode, root.Find("cache")!.Key.Location) : null;

        // Plugins load only if a recipe needs its pass names checked, and only from entries that are themselves valid.
        Func<IReadOnlyCollection<KnownPass>?>? passes = _options.KnownPasses is null && _options.PassesFor is { } load && allLoadable
            ? () => load(loadable, _baseDir)
            : null;
        var targetBinder = new TargetBinder(_r, _options, output, (node, path) => Gate(node, path, metric), passes);
        IReadOnlyList<TargetConfig> targets = targetBinder.Bind(root.Find("targets"), gate, top);
        foreach (TargetConfig t in targets)
        {
            if (model is not null && string.Equals(t.OutputPath, model, StringComparison.OrdinalIgnoreCase))
            {
                _r.Error(ConfigErrorCodes.BadName, $"target '{t.Name}' would write {t.OutputPath}, over the input model",
                    "set the top-level 'output' to another folder, or give the target another 'output' file name", t.Location);
            }
        }

        StreamBatches(inputs, calibration, evaluation);

        SourceLocation? gateAt = root.Find("gate") is { } g && gate is not null ? g.Key.Location : targetBinder.FirstGate;
        if (gateAt is { } at && evaluation is null && ConfigReader.Value(root, "evaluation") is null)
        {
            _r.Error(ConfigErrorCodes.Conflict, "a gate needs an 'evaluation' section to measure accuracy with",
                "add 'evaluation' (data, labels, metric) or remove the gate", at);
        }

        if (_r.Errors.Count > 0 || model is null || calibration is null)
        {
            return null;
        }

        return new QuantizeConfig
        {
            ConfigPath = _file,
            BaseDirectory = _baseDir,
            ModelPath = model,
            OutputDirectory = output,
            Inputs = inputs,
            Calibration = calibration,
            Evaluation = evaluation,
            Gate = gate,
            Plugins = plugins,
            Cache = cache ?? new CacheConfig(),
            Targets = targets,
        };
    }

    // A streamed input carries one state from window to window, so every window is its own batch.
    private void StreamBatches(IReadOnlyList<InputBindingConfig> inputs, CalibrationConfig? calibration, EvaluationConfig? evaluation)
    {
        if (inputs.FirstOrDefault(i => i.Stream is not null) is not { } stream)
        {
            return;
        }

        if (calibration is not null && (!calibration.BatchSizeGiven || calibration.BatchSize != 1))
        {
            _r.Error("QB1306", $"'inputs.{stream.Name}' streams '{stream.Stream}' window after window, so calibration must run one window per batch",
                "write 'batch_size: 1' under 'calibration'", calibration.Location);
        }

        if (evaluation is not null && evaluation.BatchSize != 1)
        {
            _r.Error("QB1306", $"'inputs.{stream.Name}' streams '{stream.Stream}' window after window, so evaluation must run one window per batch",
                "write 'batch_size: 1' under 'evaluation'", evaluation.Location);
        }
    }

    private CalibrationConfig? Calibration(ConfigNode node, SourceLocation keyAt)
    {
        if (_r.AsMapping(node, "calibration") is not { } map)
        {
            return null;
        }

        _r.CheckKeys(map, QuantizeConfigKeys.Calibration, "calibration");
        DataSourceConfig? data = Data(map, "calibration", keyAt);

        CalibrationMethod method = CalibrationMethod.Auto;
        string? methodText = _r.String(map, "method", "calibration.method");
        if (methodText is not null && !TryMethod(methodText, out method))
        {
            _r.Error(ConfigErrorCodes.UnknownValue,
                $"unknown calibration method '{methodText}'.{NameSuggester.DidYouMean(methodText, MethodNames)}",
                $"use one of: {string.Join(", ", MethodNames)}", ConfigReader.At(map, "method", keyAt));
        }

        double? percentile = _r.Number(map, "percentile", "calibration.percentile");
        if (percentile is { } p && (p <= 0 || p > 100))
        {
            _r.Range(map.Find("percentile")?.Value, keyAt, "calibration.percentile", "above 0 and at most 100", ConfigReader.Format(p));
        }

        if (percentile is not null && method != CalibrationMethod.Percentile)
        {
            _r.Error(ConfigErrorCodes.Conflict, "'calibration.percentile' only applies to 'method: percentile'",
                "set 'method: percentile' or remove 'percentile'", map.Find("percentile")!.Key.Location);
        }

        string? histogramText = _r.String(map, "histogram", "calibration.histogram");
        bool exactHistogram = false;
        if (histogramText is not null)
        {
            if (!HistogramNames.Contains(histogramText, StringComparer.Ordinal))
            {
                _r.Error(ConfigErrorCodes.UnknownValue,
                    $"unknown calibration histogram '{histogramText}'.{NameSuggester.DidYouMean(histogramText, HistogramNames)}",
                    $"use one of: {string.Join(", ", HistogramNames)}", ConfigReader.At(map, "histogram", keyAt));
            }
            else if (method == CalibrationMethod.MinMax)
            {
                _r.Error(ConfigErrorCodes.Conflict, "'calibration.histogram' does not apply to 'method: minmax', which keeps no histogram",
                    "remove 'histogram' or choose a method that reads one (auto, percentile, entropy, mse)", map.Find("histogram")!.Key.Location);
            }

            exactHistogram = histogramText == "exact";
        }

        int? samples = Positive(map, "samples", "calibration.samples", keyAt);
        int? explicitBatch = Positive(map, "batch_size", "calibration.batch_size", keyAt);
        int batch = explicitBatch ?? 32;

        return data is null ? null : new CalibrationConfig
        {
            Data = data,
            Method = method,
            Percentile = method == CalibrationMethod.Percentile ? percentile ?? 99.99 : null,
            ExactHistogram = exactHistogram,
            Samples = samples,
            BatchSize = batch,
            BatchSizeGiven = explicitBatch is not null,
            Location = keyAt,
        };
    }

    private EvaluationConfig? Evaluation(ConfigNode node, SourceLocation keyAt)
    {
        if (_r.AsMapping(node, "evaluation") is not { } map)
        {
            return null;
        }

        _r.CheckKeys(map, QuantizeConfigKeys.Evaluation, "evaluation");
        DataSourceConfig? data = Data(map, "evaluation", keyAt);
        string? labels = OptionalFile(map, "labels", "evaluation.labels");
        bool labelsWritten = ConfigReader.Value(map, "labels") is not null;

        string? metric = _r.String(map, "metric", "evaluation.metric");
        metric ??= labelsWritten ? "top1" : "agreement";
        MetricInfo? info = _options.Metrics.FirstOrDefault(m => m.Name == metric);
        IReadOnlyList<string> metricNames = _options.Metrics.Select(m => m.Name).ToList();
        ConfigMapping? metricOptions = null;
        if (ExtensionBinder.IsQualified(metric))
        {
            // A plugin's metric: what validation knows of it comes from the plugin, when the plugins could be loaded.
            metricOptions = _extensions.OptionsOf(map, "metric_options", "evaluation.metric_options");
            KnownExtension? known = metricOptions is null ? null : _extensions.Metric(metric, metricOptions, ConfigReader.At(map, "metric", keyAt));
            info = known is null ? null : new MetricInfo(metric, known.NeedsLabels, known.Minimum, known.Maximum);
            _pluginMetric = info;
            if (known is null)
            {
                info = new MetricInfo(metric, NeedsLabels: false, null, null);
            }
        }
        else if (map.Find("metric_options") is { } optionsEntry)
        {
            _r.Error(ConfigErrorCodes.Conflict, $"'evaluation.metric_options' only applies to a plugin's metric (<plugin id>/<name>), not '{metric}'",
                "remove 'metric_options', or name a plugin metric", optionsEntry.Key.Location);
        }

        if (info is null)
        {
            _r.Error(ConfigErrorCodes.UnknownValue,
                $"unknown metric '{metric}'.{NameSuggester.DidYouMean(metric, metricNames)}",
                $"use one of: {string.Join(", ", metricNames)}", ConfigReader.At(map, "metric", keyAt));
        }
        else if (info.NeedsLabels && !labelsWritten)
        {
            _r.Error(ConfigErrorCodes.LabelsRequired,
                $"metric '{metric}' compares predictions with labels, but 'evaluation.labels' is not set",
                "add 'labels: <file>.npy' (integer class per sample), or use a label-free metric: agreement, cosine, sqnr, max_abs_error",
                ConfigReader.At(map, "metric", keyAt));
        }

        int? k = Positive(map, "k", "evaluation.k", keyAt);
        if (metric == "topk" && k is null && ConfigReader.Value(map, "k") is null)
        {
            _r.Missing("k", "evaluation", ConfigReader.At(map, "metric", keyAt), "add 'k: 3' (or another k) for the topk metric");
        }
        else if (metric != "topk" && map.Find("k") is { } kEntry)
        {
            _r.Error(ConfigErrorCodes.Conflict, "'evaluation.k' only applies to 'metric: topk'", "set 'metric: topk' or remove 'k'", kEntry.Key.Location);
        }

        string? dictionary = CtcDictionary(map, metric, keyAt);
        k = metric switch { "top1" => 1, "top5" => 5, "topk" => k, _ => null };
        string? output = _r.String(map, "output", "evaluation.output");
        int batch = Positive(map, "batch_size", "evaluation.batch_size", keyAt) ?? 32;

        return data is null ? null : new EvaluationConfig
        {
            Data = data,
            LabelsPath = labels,
            DictionaryPath = dictionary,
            Metric = metric,
            MetricOptions = metricOptions,
            K = k,
            Output = output,
            BatchSize = batch,
            Location = keyAt,
        };
    }

    // ctc_exact_line decodes through a character file; no other metric reads one, so it is refused elsewhere.
    private string? CtcDictionary(ConfigMapping map, string metric, SourceLocation keyAt)
    {
        if (metric != "ctc_exact_line")
        {
            if (map.Find("dictionary") is { } entry)
            {
                _r.Error(ConfigErrorCodes.Conflict, "'evaluation.dictionary' only applies to 'metric: ctc_exact_line'",
                    "set 'metric: ctc_exact_line' or remove 'dictionary'", entry.Key.Location);
            }

            return null;
        }

        if (ConfigReader.Value(map, "dictionary") is null)
        {
            _r.Missing("dictionary", "evaluation", ConfigReader.At(map, "metric", keyAt),
                "add 'dictionary: <file>.txt', the recognizer's character list (one per line, class 1 first)");
            return null;
        }

        string? path = OptionalFile(map, "dictionary", "evaluation.dictionary");
        if (path is not null && CtcExactLineMetric.DictionaryProblem(path) is { } problem)
        {
            _r.Error(ConfigErrorCodes.UnsupportedData, $"'evaluation.dictionary': {problem}",
                "use the recognizer's character file: UTF-8 text, one character per line", map.Find("dictionary")!.Value.Location);
        }

        return path;
    }

    internal GateConfig? Gate(ConfigNode node, string path, MetricInfo? metric)
    {
        if (_r.AsMapping(node, path) is not { } map)
        {
            return null;
        }

        _r.CheckKeys(map, QuantizeConfigKeys.Gate, path);
        double? maxDrop = null;
        bool relative = false;
        if (ConfigReader.Value(map, "max_drop") is { } dropNode)
        {
            string text = dropNode is ConfigScalar s ? s.Value.Trim() : string.Empty;
            if (text.EndsWith('%') && ConfigReader.TryNumber(text[..^1].TrimEnd(), out double pct))
            {
                relative = true;
                maxDrop = pct;
                if (pct < 0 || pct > 100)
                {
                    _r.Range(dropNode, map.Location, path + ".max_drop", "a percentage from 0% to 100%", text);
                }
            }
            else if (dropNode is ConfigScalar && ConfigReader.TryNumber(text, out double abs))
            {
                maxDrop = abs;
                if (abs < 0)
                {
                    _r.Range(dropNode, map.Location, path + ".max_drop", "0 or more (points the metric may drop)", text);
                }
            }
            else
            {
                _r.WrongType(dropNode, path + ".max_drop", "a number of points (0.5) or a percentage (\"1%\")");
            }
        }

        if (maxDrop is not null && metric is { HasDropBaseline: false })
        {
            // fp32 measured against itself is the metric's ideal (∞ dB for sqnr): a drop from it cannot pass or fail honestly.
            _r.Error(ConfigErrorCodes.Conflict,
                $"'{path}.max_drop' cannot gate metric '{metric.Name}': fp32 compared with itself scores {metric.Name} = ∞, so every drop is infinite",
                $"gate {metric.Name} with an absolute floor instead, for example 'min: 30' ({metric.Name} in dB)", map.Find("max_drop")!.Value.Location);
        }

        double? min = _r.Number(map, "min", path + ".min");
        if (min is { } m && metric is not null)
        {
            if ((metric.Minimum is { } lo && m < lo) || (metric.Maximum is { } hi && m > hi))
            {
                _r.Range(map.Find("min")!.Value, map.Location, path + ".min",
                    $"within {metric.Name}'s range {ConfigReader.Format(metric.Minimum ?? double.NegativeInfinity)} to {ConfigReader.Format(metric.Maximum ?? double.PositiveInfinity)}",
                    ConfigReader.Format(m));
            }
            else if (metric.Maximum == 100 && m > 0 && m < 1)
            {
                // 0.85 for an accuracy in percent is almost surely a fraction: a floor of 0.85% gates nothing.
                _r.Error(ConfigErrorCodes.OutOfRange,
                    $"'{path}.min' is {ConfigReader.Format(m)}, but {metric.Name} is a percentage (0 to 100), so this floor is {ConfigReader.Format(m)}%",
                    $"write {ConfigReader.Format(m * 100)} for {ConfigReader.Format(m * 100)}%", map.Find("min")!.Value.Location);
            }
        }

        return new GateConfig
        {
            MaxDrop = maxDrop, MaxDropIsRelative = relative, Min = min, Location = map.Location,
            MaxDropLocation = map.Find("max_drop")?.Key.Location, MinLocation = map.Find("min")?.Key.Location,
        };
    }

    private IReadOnlyList<PluginReference> Plugins(ConfigNode node)
    {
        var list = new List<PluginReference>();
        if (_r.AsSequence(node, "plugins") is not { } seq)
        {
            return list;
        }

        foreach (ConfigNode item in seq.Items)
        {
            if (_r.AsMapping(item, "plugins item") is not { } map)
            {
                continue;
            }

            _r.CheckKeys(map, QuantizeConfigKeys.Plugin, "plugins");
            string? rawPath = _r.String(map, "path", "plugins.path");
            string? package = _r.String(map, "package", "plugins.package");
            string? version = _r.String(map, "version", "plugins.version");
            string? sha = _r.String(map, "sha256", "plugins.sha256");
            bool outside = _r.Bool(map, "allow_outside", "plugins.allow_outside") ?? false;
            string? path = null;

            if ((rawPath is null) == (package is null))
            {
                _r.Error(ConfigErrorCodes.Conflict, "a plugin entry needs exactly one of 'path' or 'package'",
                    "write 'path: plugins/MyPlugin' for a local plugin, or 'package: Id' with 'version: x.y.z' for a NuGet package", map.Location);
            }

            if (rawPath is not null)
            {
                path = Resolve(rawPath);
                ConfigNode at = map.Find("path")!.Value;
                // A path that does not exist is the plugin host's QB2001, failing only the targets whose recipe needs
                // the plugin (docs/plugins.md); refusing it here stopped every target.
                if (!outside && !IsInside(path, _baseDir))
                {
                    _r.Error(ConfigErrorCodes.PluginOutsideTree,
                        $"plugin path '{rawPath}' resolves to {path}, outside the folder of quantize.yaml ({_baseDir})",
                        "move the plugin under the yaml's folder, or add 'allow_outside: true' to load code from there on purpose", at.Location);
                    path = null;
                }
            }

            if (package is not null && version is null)
            {
                _r.Missing("version", "plugins", map.Find("package")!.Key.Location, "pin the package: add 'version: x.y.z' so every build loads the same plugin");
            }

            if (version is not null && package is null && rawPath is not null)
            {
                _r.Error(ConfigErrorCodes.Conflict, "'version' applies to a 'package', not a 'path'", "remove 'version'", map.Find("version")!.Key.Location);
            }

            if (outside && rawPath is null)
            {
                _r.Error(ConfigErrorCodes.Conflict, "'allow_outside' applies to a 'path'", "remove 'allow_outside'", map.Find("allow_outside")!.Key.Location);
            }

            if (sha is not null && (sha.Length != 64 || !sha.All(Uri.IsHexDigit)))
            {
                _r.Error(ConfigErrorCodes.WrongType, $"'plugins.sha256': expected 64 hex digits, got '{sha}'",
                    "paste the SHA-256 of the plugin assembly (sha256sum <file>)", map.Find("sha256")!.Value.Location);
            }

            list.Add(new PluginReference
            {
                Path = path, Package = package, Version = version, Sha256 = sha?.ToLowerInvariant(), AllowOutside = outside, Location = map.Location,
            });
        }

        return list;
    }

    private DataSourceConfig? Data(ConfigMapping section, string name, SourceLocation keyAt)
    {
        string path = name + ".data";
        ConfigNode? node = ConfigReader.Value(section, "data");
        if (node is null)
        {
            _r.Missing("data", name, keyAt, $"add 'data:' to '{name}': a .npy, a .npz, a folder of test_data_set_N/input_K.pb, or input-name: file.npy lines");
            return null;
        }

        if (node is ConfigMapping readerMap && readerMap.Find("reader") is not null)
        {
            DataSourceConfig? source = _extensions.Reader(readerMap, path, Resolve, FileOrFolder);
            if (source is not null)
            {
                _extensions.CheckReader(source, path);
            }

            return source;
        }

        if (node is ConfigMapping perInput)
        {
            var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
            bool ok = true;
            foreach (ConfigEntry e in perInput.Entries)
            {
                if (e.Value is not ConfigScalar { IsNull: false } s)
                {
                    _r.WrongType(e.Value, $"{path}.{e.Name}", "a .npy file path");
                    ok = false;
                    continue;
                }

                string full = Resolve(s.Value);
                if (!s.Value.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                {
                    _r.Error(ConfigErrorCodes.UnsupportedData, $"'{path}.{e.Name}': expected a .npy file, got '{s.Value}'",
                        "give each input its own .npy file (or use one .npz with a member per input)", s.Location);
                    ok = false;
                }
                else if (!Readable(s, $"{path}.{e.Name}", s.Value, full, "file"))
                {
                    ok = false;
                }

                inputs[e.Name] = full;
            }

            if (inputs.Count == 0 && ok)
            {
                _r.Error(ConfigErrorCodes.UnsupportedData, $"'{path}' maps no inputs", "list 'input-name: file.npy' for each model input", perInput.Location);
                ok = false;
            }

            return ok ? new DataSourceConfig { Kind = DataSourceKind.PerInput, Inputs = inputs, Location = node.Location } : null;
        }

        if (node is not ConfigScalar scalar)
        {
            _r.WrongType(node, path, "a file or folder path, or a mapping input-name: file.npy");
            return null;
        }

        string resolved = Resolve(scalar.Value);
        if (Directory.Exists(resolved))
        {
            if (!IsTensorProtoFolder(resolved))
            {
                _r.Error(ConfigErrorCodes.UnsupportedData,
                    $"'{path}': folder {resolved} holds no test_data_set_N folders or input_K.pb files",
                    "point at a folder of ONNX test data (test_data_set_0/input_0.pb, ...), or at a .npy/.npz file", scalar.Location);
                return null;
            }

            return new DataSourceConfig { Kind = DataSourceKind.TensorProtoDirectory, Path = resolved, Location = scalar.Location };
        }

        DataSourceKind? kind = Path.GetExtension(resolved).ToLowerInvariant() switch
        {
            ".npy" => DataSourceKind.Npy,
            ".npz" => DataSourceKind.Npz,
            _ => null,
        };
        if (kind is null)
        {
            _r.Error(ConfigErrorCodes.UnsupportedData, $"'{path}': '{scalar.Value}' is not a .npy, a .npz or a folder",
                "convert the data to .npy/.npz (numpy.save / numpy.savez), or point at a folder of test_data_set_N/input_K.pb", scalar.Location);
            return null;
        }

        if (!Readable(scalar, path, scalar.Value, resolved, "file"))
        {
            return null;
        }

        return new DataSourceConfig { Kind = kind.Value, Path = resolved, Location = scalar.Location };
    }

    private bool FileOrFolder(ConfigNode at, string path, string raw, string full) =>
        (!raw.Contains('\0') && Directory.Exists(full)) || Readable(at, path, raw, full, "file or folder");

    private string? RequiredFile(ConfigMapping map, string key, string path, SourceLocation owner, string fix)
    {
        if (ConfigReader.Value(map, key) is null)
        {
            _r.Missing(key, string.Empty, owner, fix);
            return null;
        }

        return OptionalFile(map, key, path);
    }

    private string? OptionalFile(ConfigMapping map, string key, string path)
    {
        string? raw = _r.String(map, key, path);
        if (raw is null)
        {
            return null;
        }

        string full = Resolve(raw);
        if (!Readable(map.Find(key)!.Value, path, raw, full, "file"))
        {
            return null;
        }

        return full;
    }

    /// <summary>
    /// True when <paramref name="full"/> is a regular file with content; otherwise reports QB1006 (missing) or
    /// QB1020 (a device, FIFO, /proc file, empty file, or a symlink to one), before any work reads it and hangs.
    /// </summary>
    private bool Readable(ConfigNode at, string path, string raw, string full, string what)
    {
        if (raw.Contains('\0'))
        {
            _r.Error(ConfigErrorCodes.NotAFile, $"'{path}': '{raw.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a NUL character, which no path can hold",
                "remove the NUL (\\0) from the path", at.Location);
            return false;
        }

        if (InputFile.Problem(full, out _) is not { } problem)
        {
            return true;
        }

        if (!File.Exists(full) && new FileInfo(full).LinkTarget is null)
        {
            NotFound(at, path, raw, full, what);
        }
        else
        {
            _r.Error(ConfigErrorCodes.NotAFile, $"'{path}': '{raw}' cannot be read: {problem}",
                "point at a regular file with the data (not a device, FIFO, /proc file, or a symlink to one)", at.Location);
        }

        return false;
    }

    /// <summary>The file standing where the output folder or one of its parents must be a folder, if any.</summary>
    private static string? OutputBlockedBy(string output)
    {
        for (string? dir = output; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir))
            {
                return null;
            }

            if (File.Exists(dir) || new FileInfo(dir).LinkTarget is not null)
            {
                return dir;
            }
        }

        return null;
    }

    private void NotFound(ConfigNode at, string path, string raw, string full, string what) =>
        _r.Error(ConfigErrorCodes.FileNotFound, $"'{path}': {what} '{raw}' not found (resolved to {full})",
            $"check the path; relative paths are resolved from the folder of quantize.yaml ({_baseDir})", at.Location);

    private int? Positive(ConfigMapping map, string key, string path, SourceLocation fallback)
    {
        int? v = _r.Integer(map, key, path);
        if (v is < 1)
        {
            _r.Range(map.Find(key)?.Value, fallback, path, "1 or more", v.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return null;
        }

        return v;
    }

    // A NUL cannot be in any path; keep it visible (as \0) so the not-found or unreadable error can name it,
    // where Path.GetFullPath would throw (once a QB0001).
    private string Resolve(string relative) => Path.GetFullPath(relative.Replace("\0", "\\0", StringComparison.Ordinal), _baseDir);

    private static bool IsTensorProtoFolder(string dir) =>
        Directory.EnumerateDirectories(dir, "test_data_set_*").Any() || Directory.EnumerateFiles(dir, "input_*.pb").Any();

    private static bool IsInside(string path, string dir)
    {
        string root = Path.TrimEndingDirectorySeparator(dir) + Path.DirectorySeparatorChar;
        StringComparison cmp = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return path.StartsWith(root, cmp);
    }

    private static readonly string[] MethodNames = ["minmax", "percentile", "entropy", "mse", "auto"];

    private static readonly string[] HistogramNames = ["sampled", "exact"];

    private static bool TryMethod(string text, out CalibrationMethod method)
    {
        int i = Array.IndexOf(MethodNames, text);
        method = i < 0 ? CalibrationMethod.Auto : (CalibrationMethod)i;
        return i >= 0;
    }
}
