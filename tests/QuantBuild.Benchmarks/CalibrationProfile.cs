using System.Diagnostics;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Sessions;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Benchmarks;

/// <summary>
/// <c>-- calibration-profile [samples] [repeats]</c>: where a calibration of the sample's x64 plan spends its time,
/// piece by piece (session creation with and without the exposed tensors, serialisation, .npy reads, the runs, the
/// observing), each the median of <c>repeats</c> timings, so the fixed costs can be told from the per-batch ones.
/// Writes the optimized graphs ORT runs with and without the exposed tensors to the temp folder.
/// </summary>
public static class CalibrationProfile
{
    public static int Run(string[] args)
    {
        int samples = args.Length > 0 ? int.Parse(args[0]) : 256;
        int repeats = args.Length > 1 ? int.Parse(args[1]) : 15;
        QuantizeConfig config = QuantizeConfigLoader.Load(SampleQuantization.ConfigPath);
        TargetConfig target = config.Targets.First(t => t.Name == "x64");
        OnnxModel model = OnnxModelLoader.Load(config.ModelPath);
        string input = Batcher.ModelInputs(model).Single().Name;
        string? temp = null;
        IDataSource data;
        if (samples == 256)
        {
            data = DataSources.Open(config.Calibration.Data, [input]);
        }
        else
        {
            temp = Path.Combine(Path.GetTempPath(), $"qb-profile-{Environment.ProcessId}.npy");
            CalibrationMemory.WriteRepeated(config.Evaluation!.Data.Path!, temp, samples);
            data = NpyDataSource.Single(input, temp);
        }

        IReadOnlyList<string> needed = QdqEncoder.Plan(model, new EncodeOptions { Profile = target.Device });
        string[] observed = needed.Where(n => n != input).ToArray();
        string[] outputs = model.Graph.Outputs.Select(o => o.Name).ToArray();
        int batch = config.Calibration.BatchSize;
        Console.WriteLine($"// {samples} samples, tensors {string.Join(", ", needed)}; load {File.ReadAllText("/proc/loadavg").Trim()}");

        string dir = Path.GetTempPath();
        using (new InferenceSession(Calibrator.Augment(model, []), new SessionOptions { OptimizedModelFilePath = Path.Combine(dir, "qb-opt-plain.onnx") }))
        using (new InferenceSession(Calibrator.Augment(model, observed), new SessionOptions { OptimizedModelFilePath = Path.Combine(dir, "qb-opt-exposed.onnx") }))
        {
        }

        var batches = new Batcher(data, model, batch, null).Batches().ToList();
        using InferenceSession plain = ModelSessions.Open(model);
        using InferenceSession exposed = ModelSessions.Open(model, null, observed);
        DenseTensor[] buffers = observed.Select(n => exposed.Run(batches[0], observed)[n]).ToArray();
        // Each batch's outputs, for timing the observers alone.
        IReadOnlyDictionary<string, DenseTensor>[] outs = batches.Select(b => exposed.Run(b, observed)).ToArray();

        void Time(string what, Action action)
        {
            action();
            var times = new List<double>();
            for (int r = 0; r < repeats; r++)
            {
                var sw = Stopwatch.StartNew();
                action();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            Console.WriteLine($"{what,-60} median {times[times.Count / 2],9:F2} ms  min {times[0],9:F2}  max {times[^1],9:F2}");
        }

        Time("serialise (SaveForSession)", () => OnnxModelSaver.SaveForSession(model));
        Time("open plain session", () => ModelSessions.Open(model).Dispose());
        Time("open session exposing the plan", () => ModelSessions.Open(model, null, observed).Dispose());
        Time("open session exposing the plan, writing ORT's optimized graph", () =>
        {
            // As CalibrationSession does before taking the blocked layout (ModelSessions.WriteOptimizedGraph).
            var writing = new SessionOptions { OptimizedModelFilePath = Path.Combine(dir, "qb-opt-timed.onnx"), LogSeverityLevel = LogSeverity.Error };
            writing.AddConfigEntry("session.optimized_model_external_initializers_file_name", "qb-opt-timed.onnx.data");
            writing.AddConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1048576");
            ModelSessions.Open(model, writing, observed).Dispose();
        });
        Time("npy reads", () => { for (long d = 0; d < data.SampleCount; d += batch) data.Read(d, (int)Math.Min(batch, data.SampleCount - d)); });
        Time("Run(model outputs), ready session", () => { foreach (var b in batches) plain.Run(b, outputs); });
        Time("Run(exposed) fresh arrays, ready session", () => { foreach (var b in batches) exposed.Run(b, observed); });
        Time("RunInto(exposed) reused buffers (full batches)", () => { foreach (var b in batches) if (b[input].Shape[0] == batch) exposed.RunInto(b, observed, buffers); });
        Time("RunOwned(exposed), ready session", () => { foreach (var b in batches) exposed.RunOwned(b, observed).Dispose(); });
        var nospin = new SessionOptions();
        nospin.AddConfigEntry("session.intra_op.allow_spinning", "0");
        var spin = new SessionOptions();
        spin.AddConfigEntry("session.intra_op.allow_spinning", "1");
        using InferenceSession exposedNoSpin = ModelSessions.Open(model, nospin, observed);
        Time("RunInto(exposed) reused buffers, allow_spinning 0", () => { foreach (var b in batches) if (b[input].Shape[0] == batch) exposedNoSpin.RunInto(b, observed, buffers); });
        using InferenceSession exposed1 = ModelSessions.Open(model, new SessionOptions { IntraOpNumThreads = 1 }, observed);
        Time("RunInto(exposed) reused buffers, 1 intra-op thread", () => { foreach (var b in batches) if (b[input].Shape[0] == batch) exposed1.RunInto(b, observed, buffers); });
        Time("baseline: open + reads + Run(model outputs)", () =>
        {
            using InferenceSession s = ModelSessions.Open(model);
            for (long d = 0; d < data.SampleCount; d += batch) s.Run(data.Read(d, (int)Math.Min(batch, data.SampleCount - d)), outputs);
        });
        foreach (int bins in new[] { 0, CalibrationRequest.DefaultBins })
        {
            Time($"observe all batches, bins {bins}", () =>
            {
                var obs = needed.ToDictionary(n => n, n => new TensorObserver(n, null, bins));
                for (int i = 0; i < batches.Count; i++)
                {
                    foreach (string n in observed) obs[n].Observe(outs[i][n].AsSpan<float>(), outs[i][n].Shape);
                    obs[input].Observe(batches[i][input].AsSpan<float>(), batches[i][input].Shape);
                }
            });
            var request = new CalibrationRequest { Tensors = needed, BatchSize = batch, Bins = bins };
            Time($"Calibrator.Run bins {bins}", () => Calibrator.Run(model, data, request));
            Time($"Calibrator.Run bins {bins}, allow_spinning 1", () => Calibrator.Run(model, data, request, spin));
            var budget = request with { ActivationBudgetBytes = new MemoryBudget(MemoryBudget.Default().Bytes).ActivationBytes(new FileInfo(config.ModelPath).Length), BatchSizeFromBudget = false };
            Time($"Calibrator.Run bins {bins}, with budget (as the pipeline)", () => Calibrator.Run(model, data, budget));
            CalibrationResult r = Calibrator.Run(model, data, request);
            Console.WriteLine($"   last: elapsed {r.Elapsed.TotalMilliseconds:F2} ms, ORT {r.RuntimeTime.TotalMilliseconds:F2} ms");
        }

        data.Dispose();
        if (temp is not null)
        {
            File.Delete(temp);
        }

        Console.WriteLine($"// load after {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }
}
