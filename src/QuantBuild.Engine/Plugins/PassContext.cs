using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Sessions;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// One pass's view of its target. Statistics and activations are computed on demand with the model as it is now,
/// so a pass sees the effect of earlier passes (and of its own rewrites). Closed when the pass returns or times
/// out: a pass still running past its limit can no longer change the target's encodings.
/// </summary>
internal sealed class PassContext : IPassContext
{
    private readonly PassEnvironment _env;
    private readonly RecipeDecisions _decisions;
    private readonly string _passName;
    private volatile bool _closed;

    public PassContext(string targetName, string passName, OnnxModel model, DeviceProfile device, TargetWeightFormat weights, int seed,
        PassEnvironment env, RecipeDecisions decisions, CancellationToken cancellation)
    {
        TargetName = targetName;
        _passName = passName;
        Model = model;
        Device = device;
        Weights = weights;
        Seed = seed;
        _env = env;
        _decisions = decisions;
        Cancellation = cancellation;
        Log = new PassLogger(env.Log, targetName, passName);
        Progress = new PrefixedProgress(env.Progress, $"pass {passName}");
    }

    public string TargetName { get; }

    public OnnxModel Model { get; }

    public DeviceProfile Device { get; }

    public TargetWeightFormat Weights { get; }

    public int Seed { get; }

    public IPassLogger Log { get; }

    public IProgress<StageProgress> Progress { get; }

    public CancellationToken Cancellation { get; }

    public IModelRunner Runner { get; } = new ModelRunner();

    public IReadOnlyDictionary<string, WeightEncoding> WeightEncodings => _decisions.Encodings();

    public IReadOnlyDictionary<string, ITensorStatistics> CollectStatistics(IReadOnlyCollection<string> tensors, int? channelAxis = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ThrowIfClosed();
        var request = new CalibrationRequest
        {
            Tensors = tensors.ToList(),
            ChannelAxes = channelAxis is int axis ? tensors.ToDictionary(t => t, _ => axis, StringComparer.Ordinal) : new Dictionary<string, int>(),
            BatchSize = _env.BatchSize,
            MaxSamples = _env.MaxSamples,
        };
        CalibrationResult result = Calibrator.Run(Model, _env.Calibration, request, null, Progress, Cancellation);
        return result.Observers.ToDictionary(o => o.Key, o => (ITensorStatistics)new TensorStatistics(o.Value), StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, DenseTensor> CaptureActivations(IReadOnlyCollection<string> tensors, int maxSamples)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSamples, 1);
        ThrowIfClosed();
        StreamFeedback? streams = StreamFeedback.For(_env.Calibration);
        if (streams is not null && _env.BatchSize != 1)
        {
            throw new QuantBuildException("QB1306", $"pass '{_passName}' captures activations of a model whose state is streamed window after window, so it runs one window per batch, not {_env.BatchSize}.",
                "write 'batch_size: 1' under 'calibration'");
        }

        var batcher = new Batcher(_env.Calibration, Model, _env.BatchSize, maxSamples);
        var inputs = new HashSet<string>(Batcher.ModelInputs(Model).Select(i => i.Name), StringComparer.Ordinal);
        List<string> computed = tensors.Where(t => !inputs.Contains(t)).Distinct(StringComparer.Ordinal).ToList();
        // Tensors inside If branches are fetched through their Ifs; a streamed model runs even for inputs alone, since
        // a streamed input's value is the state the window before computed.
        using ExposedSession? session = computed.Count > 0 || streams is not null ? new ExposedSession(Model, null, computed) : null;
        var parts = tensors.Distinct(StringComparer.Ordinal).ToDictionary(t => t, _ => new List<DenseTensor>(), StringComparer.Ordinal);
        long done = 0;
        foreach (IReadOnlyDictionary<string, DenseTensor> batch in batcher.Batches())
        {
            Cancellation.ThrowIfCancellationRequested();
            IReadOnlyDictionary<string, DenseTensor> fed = batch;
            IReadOnlyDictionary<string, DenseTensor> outputs = session is null ? batch
                : streams is null ? session.Run(batch, computed)
                : streams.Run(batch, computed, (window, fetch) => session.Run(fed = window, fetch));
            foreach ((string name, List<DenseTensor> list) in parts)
            {
                DenseTensor value = outputs.TryGetValue(name, out DenseTensor? t) ? t : fed[name];
                // A branch the batch did not take yields an empty tensor: nothing of it to capture.
                if (value.ElementCount > 0)
                {
                    list.Add(value);
                }
            }

            done += batch.Values.First().Shape[0];
            Progress.Report(new StageProgress("capture", done, batcher.SampleCount));
        }

        return parts.ToDictionary(p => p.Key, p => Stack(p.Key, p.Value), StringComparer.Ordinal);
    }

    public void SetWeightEncoding(string initializerName, WeightEncoding encoding)
    {
        ArgumentException.ThrowIfNullOrEmpty(initializerName);
        ArgumentNullException.ThrowIfNull(encoding);
        ThrowIfClosed();
        _decisions.SetEncoding(initializerName, encoding.Origin is null ? encoding with { Origin = _passName } : encoding);
    }

    public void KeepInFloat(string nodeName, string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeName);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ThrowIfClosed();
        // The main graph and its If branches, which the encoder quantizes and keeps by the same name check; a name no
        // node has would otherwise be a silent no-op, the very thing this verb exists to end.
        if (!Branches.Nodes(Model).Any(n => n.Node.Name == nodeName))
        {
            throw new ArgumentException($"pass '{_passName}' asked to keep node '{nodeName}' in float, but the model has no node of that name.", nameof(nodeName));
        }

        _decisions.KeepInFloat(nodeName, $"kept in float by pass '{_passName}': {reason}");
    }

    public void SetActivationRange(string tensorName, float min, float max)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tensorName);
        ThrowIfClosed();
        if (!float.IsFinite(min) || !float.IsFinite(max) || min > max)
        {
            throw new ArgumentException($"pass '{_passName}' set activation range [{min}, {max}] for '{tensorName}'; a range needs finite bounds with min <= max.", nameof(min));
        }

        _decisions.SetRange(tensorName, new TensorRange(min, max).IncludingZero());
    }

    /// <summary>Ends the pass's access: later calls throw.</summary>
    public void Close() => _closed = true;

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new ObjectDisposedException(nameof(IPassContext), $"pass '{_passName}' used its context after it returned or ran out of time.");
        }
    }

    private static DenseTensor Stack(string name, List<DenseTensor> parts)
    {
        if (parts.Count == 0)
        {
            throw new InvalidOperationException($"no calibration samples to capture '{name}' from (none ran the branch that computes it).");
        }

        long[] shape = parts[0].ShapeArray();
        shape[0] = parts.Sum(p => p.Shape[0]);
        var bytes = new byte[parts.Sum(p => p.Data.Length)];
        int offset = 0;
        foreach (DenseTensor part in parts)
        {
            part.Data.Span.CopyTo(bytes.AsSpan(offset));
            offset += part.Data.Length;
        }

        return new DenseTensor(parts[0].ElementType, shape, bytes);
    }

    private sealed class PrefixedProgress(IProgress<StageProgress>? inner, string prefix) : IProgress<StageProgress>
    {
        public void Report(StageProgress value) => inner?.Report(value with { Stage = $"{prefix}: {value.Stage}" });
    }
}
