using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Plugins;
using QuantBuild.Engine.Profiles;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace QuantBuild.Testing;

/// <summary>
/// The context a pass gets inside <c>quantbuild run</c>, without the pipeline: the engine's own
/// <see cref="IPassContext"/> over a model and calibration data, with what the pass did recorded for assertions
/// (<see cref="Encodings"/>, <see cref="Lines"/>, <see cref="ProgressReports"/>). Statistics and activations are
/// computed on demand with the model as it is now, so a pass sees its own rewrites, as in a run.
/// </summary>
/// <example>
/// <code>
/// using var context = PassTestContext.FromFiles("model.onnx", "calibration.npy");
/// new MyPass().Run(context, new MyOptions());
/// Assert.Equal(5, context.Encodings.Count);
/// </code>
/// </example>
public sealed class PassTestContext : IPassContext, IDisposable
{
    private readonly IDataSource _data;
    private readonly RecipeDecisions _decisions = new();
    private readonly List<string> _lines = new();
    private readonly List<StageProgress> _progress = new();
    private readonly Logger _logger;
    private readonly PassContext _inner;

    /// <summary>A context over <paramref name="model"/> with calibration samples from <paramref name="calibration"/>.</summary>
    /// <param name="model">The model the pass may read and rewrite (it is not copied).</param>
    /// <param name="calibration">The calibration samples, named after the model's inputs.</param>
    /// <param name="options">Device, weight format, batching and sample limits; defaults when null.</param>
    public PassTestContext(OnnxModel model, IDataSource calibration, PassTestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibration);
        options ??= new PassTestOptions();
        _data = calibration;
        DeviceProfile device = DeviceProfiles.Find(options.Device)
            ?? throw new ArgumentException($"unknown device profile '{options.Device}' (known: {string.Join(", ", DeviceProfiles.All.Keys)})", nameof(options));
        _logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(new LineSink(_lines)).CreateLogger();
        var env = new PassEnvironment
        {
            Calibration = calibration,
            BatchSize = options.BatchSize,
            MaxSamples = options.MaxSamples,
            Log = _logger,
            Progress = new Recorder(_progress),
            Cancellation = options.Cancellation,
        };
        _inner = new PassContext(options.TargetName, options.PassName, model, device, options.Weights, options.Seed, env, _decisions, options.Cancellation);
    }

    /// <summary>
    /// Loads <paramref name="modelPath"/> and opens <paramref name="calibrationPath"/> as quantize.yaml's
    /// <c>calibration.data</c> would: an .npy for a one-input model, an .npz with one member per input, or a folder of
    /// ONNX test data (<c>test_data_set_N/input_K.pb</c>).
    /// </summary>
    public static PassTestContext FromFiles(string modelPath, string calibrationPath, PassTestOptions? options = null) =>
        FromFiles(Onnx.OnnxModelLoader.Load(modelPath), calibrationPath, options);

    /// <summary>As <see cref="FromFiles(string, string, PassTestOptions?)"/>, for a model already in memory (it is not copied).</summary>
    public static PassTestContext FromFiles(OnnxModel model, string calibrationPath, PassTestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        DataSourceKind kind = Directory.Exists(calibrationPath) ? DataSourceKind.TensorProtoDirectory
            : calibrationPath.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) ? DataSourceKind.Npz
            : DataSourceKind.Npy;
        IDataSource data = DataSources.Open(new DataSourceConfig { Kind = kind, Path = Path.GetFullPath(calibrationPath) }, Batcher.ModelInputs(model).Select(i => i.Name).ToList());
        return new PassTestContext(model, data, options);
    }

    /// <summary>A context whose calibration samples are <paramref name="inputs"/> (model input name → samples stacked on axis 0).</summary>
    public static PassTestContext FromTensors(OnnxModel model, IReadOnlyDictionary<string, DenseTensor> inputs, PassTestOptions? options = null) =>
        new(model, new InMemoryDataSource("test inputs", inputs.Select(kv => (kv.Key, kv.Value)).ToList()), options);

    /// <summary>The weight encodings the pass recorded, by initializer name, as the encoder would receive them.</summary>
    public IReadOnlyDictionary<string, WeightEncoding> Encodings => _inner.WeightEncodings;

    /// <summary>The nodes the pass kept in float (<see cref="KeepInFloat"/>), by name, with the reason the report would show.</summary>
    public IReadOnlyDictionary<string, string> KeptInFloat => _decisions.Result(Model).KeptInFloat;

    /// <summary>The activation ranges the pass set (<see cref="SetActivationRange"/>), by tensor name, as (min, max) with 0 included.</summary>
    public IReadOnlyDictionary<string, (float Min, float Max)> ActivationRanges =>
        _decisions.Result(Model).ActivationRanges.ToDictionary(r => r.Key, r => (r.Value.Min, r.Value.Max), StringComparer.Ordinal);

    /// <summary>Everything the pass logged, one line each, prefixed with the level (<c>debug: </c>, <c>info: </c>, <c>warning: </c>).</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return _lines.ToList();
            }
        }
    }

    /// <summary>The progress the pass (and the calibration it asked for) reported, in order.</summary>
    public IReadOnlyList<StageProgress> ProgressReports
    {
        get
        {
            lock (_progress)
            {
                return _progress.ToList();
            }
        }
    }

    /// <inheritdoc />
    public string TargetName => _inner.TargetName;

    /// <inheritdoc />
    public OnnxModel Model => _inner.Model;

    /// <inheritdoc />
    public DeviceProfile Device => _inner.Device;

    /// <inheritdoc />
    public TargetWeightFormat Weights => _inner.Weights;

    /// <inheritdoc />
    public int Seed => _inner.Seed;

    /// <inheritdoc />
    public IPassLogger Log => _inner.Log;

    /// <inheritdoc />
    public IProgress<StageProgress> Progress => _inner.Progress;

    /// <inheritdoc />
    public CancellationToken Cancellation => _inner.Cancellation;

    /// <inheritdoc />
    public IModelRunner Runner => _inner.Runner;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, WeightEncoding> WeightEncodings => _inner.WeightEncodings;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ITensorStatistics> CollectStatistics(IReadOnlyCollection<string> tensors, int? channelAxis = null) =>
        _inner.CollectStatistics(tensors, channelAxis);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, DenseTensor> CaptureActivations(IReadOnlyCollection<string> tensors, int maxSamples) =>
        _inner.CaptureActivations(tensors, maxSamples);

    /// <inheritdoc />
    public void SetWeightEncoding(string initializerName, WeightEncoding encoding) => _inner.SetWeightEncoding(initializerName, encoding);

    /// <inheritdoc />
    public void KeepInFloat(string nodeName, string reason) => _inner.KeepInFloat(nodeName, reason);

    /// <inheritdoc />
    public void SetActivationRange(string tensorName, float min, float max) => _inner.SetActivationRange(tensorName, min, max);

    /// <summary>Closes the calibration data and the log.</summary>
    public void Dispose()
    {
        _inner.Close();
        _data.Dispose();
        _logger.Dispose();
    }

    private sealed class LineSink(List<string> lines) : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            string level = logEvent.Level switch
            {
                LogEventLevel.Verbose or LogEventLevel.Debug => "debug",
                LogEventLevel.Information => "info",
                LogEventLevel.Warning => "warning",
                _ => "error",
            };
            // The pass's own text, without Serilog's quoting of string properties.
            string text = logEvent.Properties.TryGetValue("Message", out LogEventPropertyValue? m) && m is ScalarValue { Value: string s } ? s : logEvent.RenderMessage();
            lock (lines)
            {
                lines.Add($"{level}: {text}");
            }
        }
    }

    private sealed class Recorder(List<StageProgress> reports) : IProgress<StageProgress>
    {
        public void Report(StageProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
