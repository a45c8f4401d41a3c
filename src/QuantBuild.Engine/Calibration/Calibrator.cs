using System.Diagnostics;
using System.Runtime.ExceptionServices;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// Streams the fp32 model over the calibration data in ONNX Runtime with the tensors to observe exposed as extra graph
/// outputs, folding each batch into fixed-size observers, so memory does not grow with the number of samples. With a
/// budget, one sample measures every tensor's size and the tensors are split into <see cref="CaptureGroups"/> whose
/// outputs fit it, one pass over the batches per group fetching only that group, so the managed side does not grow with
/// the activations either. Each batch's outputs are observed where ORT wrote them (its arena, no managed copy), on
/// every core between one run and the next (<see cref="BatchObserver"/>). With min/max
/// only, a Relu whose input is observed too is not fetched: its min/max follow from its input's (<see cref="DerivableRelus"/>).
/// </summary>
public static class Calibrator
{
    /// <summary>Runs <paramref name="model"/> over <paramref name="data"/> and observes the requested tensors.</summary>
    public static CalibrationResult Run(OnnxModel model, IDataSource data, CalibrationRequest request, SessionOptions? sessionOptions = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        if (StreamFeedback.For(data) is not null && request.BatchSize != 1)
        {
            throw new QuantBuildException("QB1306", $"Calibration streams a recurrent input window after window, so it runs one window per batch, not {request.BatchSize}.",
                "write 'batch_size: 1' under 'calibration'");
        }

        // Non-finite inputs are left to the observers, which report them as QB3005 with the tensor's name, the
        // same as NaN the model itself produces.
        var batcher = new Batcher(data, model, request.BatchSize, request.MaxSamples, requireFinite: false);
        var inputNames = new HashSet<string>(Batcher.ModelInputs(model).Select(i => i.Name), StringComparer.Ordinal);
        SessionOptions options = SessionOptionsFor(sessionOptions);
        // Loop/Scan body tensors come stacked over the iterations, which only works when every iteration has the same
        // shape: those that do not are found on the first batch and left unobserved, with the reason.
        List<string> computed = request.Tensors.Distinct(StringComparer.Ordinal).Where(n => !inputNames.Contains(n)).ToList();
        BranchExposure exposure = BranchExposure.Create(model, computed);
        Dictionary<string, string> unobserved = batcher.SampleCount > 0
            ? BodyShapes.Varying(model, exposure, computed, () => data.Read(0, (int)Math.Min(batcher.BatchSize, batcher.SampleCount)), options)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in request.ChannelAxes.Keys.Where(exposure.IsFlattened))
        {
            unobserved.TryAdd(name, $"'{name}' is in an If branch inside a Loop body: calibration gathers its values flat, without the channel axis per-channel statistics need");
        }

        // A body tensor whose shape varies only on a later batch (an iteration count that depends on the data) fails
        // that batch's run: it is found on that batch as on the first one, left unobserved, and calibration starts over.
        bool blockedLayout = request.BlockedLayout && StreamFeedback.For(data) is null;
        while (true)
        {
            try
            {
                return Observe(model, data, request, batcher, inputNames, options, exposure, unobserved, blockedLayout, total, progress, cancellation);
            }
            catch (BlockedLayoutMismatch) when (blockedLayout)
            {
                // ORT padded a block after all: everything again on the plain session, which hands over NCHW.
                blockedLayout = false;
            }
            catch (BatchFailed failed)
            {
                List<string> left = computed.Where(n => !unobserved.ContainsKey(n)).ToList();
                Dictionary<string, string> more = StreamFeedback.For(data) is null
                    ? BodyShapes.Varying(model, BranchExposure.Create(model, left), left, () => data.Read(failed.Done, failed.Rows), options)
                    : new Dictionary<string, string>(StringComparer.Ordinal);
                if (more.Count == 0)
                {
                    ExceptionDispatchInfo.Throw(failed.InnerException!);
                }

                foreach ((string tensor, string why) in more)
                {
                    unobserved.TryAdd(tensor, why);
                }
            }
        }
    }

    // One calibration of everything but the unobserved tensors.
    private static CalibrationResult Observe(OnnxModel model, IDataSource data, CalibrationRequest request, Batcher batcher, HashSet<string> inputNames,
        SessionOptions options, BranchExposure planned, Dictionary<string, string> unobserved, bool blockedLayout, Stopwatch total, IProgress<StageProgress>? progress,
        CancellationToken cancellation)
    {
        var observers = new Dictionary<string, TensorObserver>(StringComparer.Ordinal);
        foreach (string name in request.Tensors.Distinct(StringComparer.Ordinal))
        {
            // A channel axis counted from the front moves past the iteration axes a body tensor is stacked along.
            int? axis = request.ChannelAxes.TryGetValue(name, out int a) ? (a >= 0 ? a + planned.LeadingAxes(name) : a) : null;
            observers[name] = new TensorObserver(name, axis, request.Bins, request.ExactHistogramValues);
        }

        Dictionary<string, TensorObserver> byTensor = observers;
        // Relu outputs whose min/max follow exactly from their observed input's: never fetched nor observed.
        Dictionary<string, string> derived = request.Bins == 0 ? DerivableRelus(model, observers.Keys, request.ChannelAxes) : new(StringComparer.Ordinal);
        // Inputs are observed straight from the data; everything else must come out of the model.
        List<string> exposed = observers.Keys.Where(n => !inputNames.Contains(n) && !unobserved.ContainsKey(n)).ToList();
        List<string> outputs = exposed.Where(n => !derived.ContainsKey(n)).ToList();
        List<string> observedInputs = observers.Keys.Where(inputNames.Contains).ToList();
        // Tensors inside If branches and Loop/Scan bodies are fetched under the names their nodes expose them by (BranchExposure).
        BranchExposure exposure = BranchExposure.Create(model, outputs);
        outputs = outputs.Select(exposure.OutputName).ToList();
        observers = Fetched(observers.Where(o => !unobserved.ContainsKey(o.Key)).ToDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal), exposure);
        var runtime = new Stopwatch();
        // Main-graph tensors observed per tensor, none a model output, may come in ORT's blocked layout (CalibrationSession).
        var modelOutputs = new HashSet<string>(model.Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var computed = new HashSet<string>(model.Graph.Nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);
        var anyOrder = blockedLayout
            ? outputs.Where(n => observers[n].Divisible && computed.Contains(n) && !modelOutputs.Contains(n)).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
        CalibrationSession? all = outputs.Count > 0
            ? CalibrationSession.Open(exposure.Model, options, outputs, anyOrder, batcher.SampleCount, request.BlockedChannelMultiple, request.BlockedLayoutMinimumValues)
            : null;
        try
        {
            RunOutputs? probed = null;
            CaptureGroups plan = request.ActivationBudgetBytes is long budget && all is not null
                ? PlanGroups(all, data, batcher.SampleCount, outputs, budget, batcher.BatchSize, request.BatchSizeFromBudget && !HasFixedBatch(model), runtime, out probed)
                : CaptureGroups.Single(outputs, batcher.BatchSize);
            int passes = Math.Max(1, plan.Groups.Count);
            long work = passes * batcher.SampleCount;
            for (int g = 0; g < passes; g++)
            {
                IReadOnlyList<string> group = plan.Groups.Count > 0 ? plan.Groups[g] : Array.Empty<string>();
                // Every pass runs the same session, which exposes every tensor: ONNX Runtime fuses nodes only across
                // tensors that are not graph outputs, so a session exposing only one group could fuse (LayerNorm,
                // Conv+Add) what the others cannot and compute slightly different values. Only the group is fetched
                // into buffers and observed; the rest are released by ORT as soon as the run ends.
                if (passes > 1)
                {
                    ReleaseGarbage();
                }

                IReadOnlyList<string> inputs = g == 0 ? observedInputs : Array.Empty<string>();
                // The probe ran batch 0 of the only pass exposing everything: the pass observes it, not runs it again.
                RunOutputs? seed = probed;
                probed = null;
                ObservePass(all, data, batcher.SampleCount, plan.BatchSize, group, inputs, seed, observers, runtime,
                    done => progress?.Report(new StageProgress("calibrate", g * batcher.SampleCount + done, work)), cancellation);
            }

            int blocked = all?.BlockedCount ?? 0;
            List<string> left = derived.Where(d => !observers[d.Key].TakeReluOf(observers[d.Value])).Select(d => d.Key).ToList();
            if (left.Count > 0)
            {
                // An input held NaN or ±∞, which Relu does not map as it maps finite values: those Relus are observed
                // after all, from a session exposing what the one-session design would have exposed.
                all?.Dispose();
                all = CalibrationSession.Plain(exposure.Model, options, exposed.Select(exposure.OutputName).ToList());
                ReleaseGarbage();
                ObservePass(all, data, batcher.SampleCount, plan.BatchSize, left, Array.Empty<string>(), null, observers, runtime, _ => { }, cancellation);
                passes++;
            }

            return new CalibrationResult(byTensor, batcher.SampleCount, total.Elapsed, runtime.Elapsed, plan.BatchSize)
            {
                Groups = passes,
                BlockedLayoutTensors = blocked,
                Unobserved = WithEmpty(model, byTensor, unobserved, batcher.SampleCount),
            };
        }
        finally
        {
            all?.Dispose();
        }
    }

    /// <summary>Why a tensor that held no element on any calibration batch has no range (a [batch, 0] slice).</summary>
    public static string Empty(string tensor) =>
        $"'{tensor}' held no values (0 elements) on every calibration batch, so it has no range to quantize with";

    // A main-graph tensor is computed on every batch, so one that never held an element was empty, not skipped: its
    // nodes say so rather than "no calibrated range". (An If branch's tensor is empty when the branch is not taken and a
    // body's when the loop does not iterate; the encoder tells those apart itself.)
    private static Dictionary<string, string> WithEmpty(OnnxModel model, Dictionary<string, TensorObserver> observers, Dictionary<string, string> unobserved, long samples)
    {
        var result = new Dictionary<string, string>(unobserved, StringComparer.Ordinal);
        if (samples == 0)
        {
            return result;
        }

        var main = new HashSet<string>(model.Graph.Inputs.Select(i => i.Name).Concat(model.Graph.Nodes.SelectMany(n => n.Outputs)), StringComparer.Ordinal);
        foreach ((string name, TensorObserver observer) in observers)
        {
            if (observer.Count == 0 && main.Contains(name))
            {
                result.TryAdd(name, Empty(name));
            }
        }

        return result;
    }

    /// <summary>
    /// One pass over every batch: ORT runs a batch, then every core observes it (<see cref="BatchObserver"/>) while ORT's
    /// threads rest (<see cref="SessionOptionsFor"/>), and so on. Each batch's outputs stay in the memory ORT wrote them
    /// into (<see cref="InferenceSession.RunOwned"/>: its arena, the same memory batch after batch) until they are
    /// observed, so nothing is copied or allocated per batch and no output shape need be known in advance.
    /// <paramref name="first"/>, when given, is batch 0's outputs already run (the probe's).
    /// </summary>
    private static void ObservePass(CalibrationSession? session, IDataSource data, long samples, int batchSize, IReadOnlyList<string> outputs,
        IReadOnlyList<string> inputs, RunOutputs? first, Dictionary<string, TensorObserver> observers, Stopwatch runtime, Action<long> progress,
        CancellationToken cancellation)
    {
        using var threads = new ObserverThreads(Environment.ProcessorCount);
        var observer = new BatchObserver(threads);
        StreamFeedback? streams = StreamFeedback.For(data);
        TensorObserver[] fetched = outputs.Select(n => observers[n]).ToArray();
        try
        {
            for (long done = 0; done < samples;)
            {
                cancellation.ThrowIfCancellationRequested();
                int rows = (int)Math.Min(batchSize, samples - done);
                IReadOnlyDictionary<string, DenseTensor> batch = data.Read(done, rows);
                IReadOnlyList<DenseTensor> values = Array.Empty<DenseTensor>();
                RunOutputs? owned = null;
                if (first is not null)
                {
                    owned = first;
                    values = owned.Tensors;
                    first = null;
                }
                else if (streams is not null && session is not null)
                {
                    // Windows in order, each fed the state the one before it computed: ORT returns fresh arrays.
                    runtime.Start();
                    IReadOnlyDictionary<string, DenseTensor> results = streams.Run(batch, outputs, session.Session.Run);
                    runtime.Stop();
                    values = outputs.Select(n => results[n]).ToArray();
                }
                else if (session is not null && outputs.Count > 0)
                {
                    runtime.Start();
                    try
                    {
                        owned = session.RunOwned(batch, outputs);
                    }
                    catch (OnnxRuntimeException e)
                    {
                        throw new BatchFailed(done, rows, e);
                    }
                    finally
                    {
                        runtime.Stop();
                    }

                    values = owned.Tensors;
                }

                using (owned)
                {
                    observer.Observe(fetched.Select((o, i) => (o, values[i])).Concat(inputs.Select(n => (observers[n], batch[n]))).ToList());
                }

                done += rows;
                progress(done);
            }
        }
        finally
        {
            first?.Dispose();
        }
    }

    // The observers keyed by the names the session fetches them under; inputs keep their own names.
    private static Dictionary<string, TensorObserver> Fetched(Dictionary<string, TensorObserver> observers, BranchExposure exposure) =>
        observers.ToDictionary(kv => exposure.OutputName(kv.Key), kv => kv.Value, StringComparer.Ordinal);

    /// <summary>
    /// The caller's options, with ORT's pool threads told to stop spin-waiting as soon as a run returns
    /// (<c>session.force_spinning_stop</c>) unless the caller said otherwise: they spin while a run is on, as in any
    /// forward pass, but would otherwise keep their cores busy for a while after it, which is exactly when every core
    /// observes the batch. Scheduling only: no value changes.
    /// </summary>
    private static SessionOptions SessionOptionsFor(SessionOptions? given)
    {
        SessionOptions options = given?.Clone() ?? new SessionOptions();
        if (!options.ConfigEntries.ContainsKey(ForceSpinningStopKey))
        {
            options.AddConfigEntry(ForceSpinningStopKey, "1");
        }

        return options;
    }

    private const string ForceSpinningStopKey = "session.force_spinning_stop";

    /// <summary>
    /// The measuring sample's copies and the previous pass's buffers are garbage now; collected here, they are not
    /// still resident when the next pass allocates its own (the GC would otherwise let large-object garbage pile up
    /// to gigabytes on a machine with memory to spare). Memory ORT freed leaves the C allocator too.
    /// </summary>
    internal static void ReleaseGarbage()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        OrtMemory.ReleaseFreed();
    }

    /// <summary>
    /// Runs one sample (or the model's fixed batch, or the configured batch) exposing every tensor, measures each
    /// tensor's bytes per sample, and plans the groups. When that run was exactly the first batch of a single pass
    /// (<paramref name="probed"/>, in the order of <paramref name="outputs"/>), the pass observes it as its batch 0
    /// instead of running it again: the same session on the same rows computes the same values. Otherwise it is not
    /// observed (and <paramref name="probed"/> is null), so the passes see the same batches whatever the plan.
    /// </summary>
    private static CaptureGroups PlanGroups(CalibrationSession session, IDataSource data, long samples, IReadOnlyList<string> outputs, long budget, int batchSize,
        bool deriveBatch, Stopwatch runtime, out RunOutputs? probed)
    {
        int rows = deriveBatch ? 1 : (int)Math.Min(batchSize, samples);
        probed = null;
        runtime.Start();
        RunOutputs probe = session.RunOwned(data.Read(0, rows), outputs);
        runtime.Stop();
        try
        {
            var sizes = outputs.Select((n, i) => (n, (long)probe.Tensors[i].Data.Length / Math.Max(1, rows))).ToList();
            CaptureGroups plan = CaptureGroups.Plan(sizes, budget, batchSize, deriveBatch);
            // A streamed input's windows are run fed the state the one before computed; the probe's was not.
            bool firstBatch = plan.Groups.Count == 1 && rows == Math.Min(plan.BatchSize, samples) && StreamFeedback.For(data) is null;
            probed = firstBatch ? probe : null;
            return plan;
        }
        finally
        {
            if (!ReferenceEquals(probed, probe))
            {
                probe.Dispose();
            }
        }
    }

    /// <summary>
    /// Requested tensors that are the output of a Relu whose input is requested too (and is not itself derived), by
    /// Relu output, with the input. Only min/max is wanted of them (no histogram, no channel axis), and for finite x,
    /// Relu(x) = max(x, 0) is monotone, so its min and max are exactly max(min, 0) and max(max, 0) of the input's: ONNX
    /// Runtime need not hand them over nor the observers read them, half the activations of a Conv → Relu network.
    /// </summary>
    internal static Dictionary<string, string> DerivableRelus(OnnxModel model, IEnumerable<string> requested, IReadOnlyDictionary<string, int> channelAxes)
    {
        var wanted = new HashSet<string>(requested, StringComparer.Ordinal);
        var derived = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Node node in model.Graph.Nodes)
        {
            if (node.OpType == "Relu" && string.IsNullOrEmpty(node.Domain) && node.Inputs.Count == 1 && node.Outputs.Count == 1
                && wanted.Contains(node.Outputs[0]) && wanted.Contains(node.Inputs[0]) && !channelAxes.ContainsKey(node.Outputs[0]))
            {
                derived[node.Outputs[0]] = node.Inputs[0];
            }
        }

        // A Relu of a Relu: only the first of a chain is derived from a tensor that is really observed.
        foreach (string output in derived.Keys.Where(o => derived.ContainsKey(derived[o])).ToList())
        {
            derived.Remove(output);
        }

        return derived;
    }

    /// <summary>True when an input fixes the batch dimension, so batches cannot be resized.</summary>
    internal static bool HasFixedBatch(OnnxModel model) => Batcher.ModelInputs(model)
        .Any(i => i.TensorType is { Shape: { Rank: > 0 } shape } && shape.Dims[0].Value is long b && b > 0);

    /// <summary>
    /// The model's bytes, every weight inline, with <paramref name="extraOutputs"/> added as float graph outputs; the
    /// model itself is not changed. For small models and tests: the engine opens sessions through
    /// <see cref="ModelSessions.Open"/>, which does not copy the weights.
    /// </summary>
    public static byte[] Augment(OnnxModel model, IReadOnlyList<string> extraOutputs) =>
        ModelSessions.WithOutputs(model, extraOutputs, OnnxModelSaver.SaveToBytes);

    /// <summary>ONNX Runtime failed on the batch of <see cref="Rows"/> samples from <see cref="Done"/>.</summary>
    private sealed class BatchFailed(long done, int rows, OnnxRuntimeException inner) : Exception(inner.Message, inner)
    {
        public long Done { get; } = done;

        public int Rows { get; } = rows;
    }
}
