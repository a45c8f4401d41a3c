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

        // Every batch read from the data source, as a calibration or the baseline reads them (a lazy sequence: timed with its reader).
        IEnumerable<IReadOnlyDictionary<string, DenseTensor>> Read()
        {
            for (long d = 0; d < data.SampleCount; d += batch)
            {
                yield return data.Read(d, (int)Math.Min(batch, data.SampleCount - d));
            }
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
        Time("npy reads", () => { foreach (var b in Read()) { } });
        Time("Run(model outputs), ready session", () => { foreach (var b in batches) plain.Run(b, outputs); });
        Time("Run(exposed) fresh arrays, ready session", () => { foreach (var b in batches) exposed.Run(b, observed); });
        Time("RunInto(exposed) reused buffers (full batches)", () => { foreach (var b in batches) if (b[input].Shape[0] == batch) exposed.RunInto(b, observed, buffers); });
        Time("RunOwned(exposed), ready session", () => { foreach (var b in batches) exposed.RunOwned(b, observed).Dispose(); });
        var stop = new SessionOptions();
        stop.AddConfigEntry("session.force_spinning_stop", "1");
        Time("fresh session (as calibrator) + RunOwned(exposed), not observed", () =>
        {
            using InferenceSession s = ModelSessions.Open(model, stop, observed);
            foreach (var b in Read()) s.RunOwned(b, observed).Dispose();
        });
        Time("fresh session, default options + RunOwned(exposed), not observed", () =>
        {
            using InferenceSession s = ModelSessions.Open(model, null, observed);
            foreach (var b in Read()) s.RunOwned(b, observed).Dispose();
        });
        {
            var ortOnly = new Stopwatch();
            Time("fresh session (as calibrator) + RunOwned(exposed) + min/max scan of each batch on this thread", () =>
            {
                using InferenceSession s = ModelSessions.Open(model, stop, observed);
                foreach (var b in Read())
                {
                    ortOnly.Start();
                    using var o = s.RunOwned(b, observed);
                    ortOnly.Stop();
                    foreach (var t in o.Tensors) TensorObserver.Scan(t.AsSpan<float>());
                }
            });
            Console.WriteLine($"   of which ORT {ortOnly.Elapsed.TotalMilliseconds / (repeats + 1):F2} ms per calibration");
        }
        var nospin = new SessionOptions();
        nospin.AddConfigEntry("session.intra_op.allow_spinning", "0");
        var spin = new SessionOptions();
        spin.AddConfigEntry("session.intra_op.allow_spinning", "1");
        using InferenceSession exposedNoSpin = ModelSessions.Open(model, nospin, observed);
        Time("RunInto(exposed) reused buffers, allow_spinning 0", () => { foreach (var b in batches) if (b[input].Shape[0] == batch) exposedNoSpin.RunInto(b, observed, buffers); });
        using InferenceSession exposed1 = ModelSessions.Open(model, new SessionOptions { IntraOpNumThreads = 1 }, observed);
        Time("RunInto(exposed) reused buffers, 1 intra-op thread", () => { foreach (var b in batches) if (b[input].Shape[0] == batch) exposed1.RunInto(b, observed, buffers); });
        using InferenceSession plainExt = ModelSessions.Open(model, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.Extended });
        Time("Run(model outputs), ready session, level extended", () => { foreach (var b in batches) plainExt.Run(b, outputs); });
        using InferenceSession exposedExt = ModelSessions.Open(model, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.Extended }, observed);
        Time("RunInto(exposed) reused buffers, level extended", () => { foreach (var b in batches) if (b[input].Shape[0] == batch) exposedExt.RunInto(b, observed, buffers); });
        {
            // How the values spread over the histogram's bins, and what counting them costs on its own: each non-zero
            // value's bin (by the scalar definition) listed in order, then incremented into 1 to 16 interleaved copies.
            var obs = observed.ToDictionary(n => n, n => new TensorObserver(n, null, CalibrationRequest.DefaultBins));
            var listed = new List<int>();
            foreach (string n in observed)
            {
                for (int i = 0; i < batches.Count; i++)
                {
                    obs[n].Observe(outs[i][n].AsSpan<float>(), outs[i][n].Shape);
                }

                long[] c = obs[n].Histogram!.Counts.ToArray();
                long sum = c.Sum();
                string top = string.Join(", ", c.Select((x, b) => (x, b)).OrderByDescending(t => t.x).Take(4).Select(t => $"bin {t.b} {100.0 * t.x / sum:F1} %"));
                Console.WriteLine($"   {n}: {sum:N0} values in {c.Count(x => x > 0)} bins; fullest {top}");
                double inverse = CalibrationRequest.DefaultBins / (double)obs[n].Max;
                for (int i = 0; i < batches.Count; i++)
                {
                    foreach (float v in outs[i][n].AsSpan<float>())
                    {
                        if (v != 0)
                        {
                            listed.Add((int)Math.Min(CalibrationRequest.DefaultBins - 1, Math.Floor(v * inverse)));
                        }
                    }
                }
            }

            Console.WriteLine($"   exposed values {obs.Values.Sum(o => o.Histogram!.Total):N0}, non-zero {listed.Count:N0}");
            foreach (int copies in new[] { 1, 2, 4, 8, 16 })
            {
                int[] slots = listed.Select((b, j) => (b * copies) + (j % copies)).ToArray();
                uint[] tally = new uint[(CalibrationRequest.DefaultBins + 1) * copies];
                Time($"increments alone, {slots.Length:N0} non-zero values, {copies} copies", () =>
                {
                    Array.Clear(tally);
                    foreach (int slot in slots)
                    {
                        tally[slot]++;
                    }
                });
            }
        }

        Time("baseline: open + reads + Run(model outputs)", () =>
        {
            using InferenceSession s = ModelSessions.Open(model);
            foreach (var b in Read()) s.Run(b, outputs);
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
            using (var threads = new ObserverThreads(Environment.ProcessorCount))
            {
                var observer = new BatchObserver(threads);
                Time($"observe all batches, bins {bins}, BatchObserver {threads.Threads} threads", () =>
                {
                    var obs = needed.ToDictionary(n => n, n => new TensorObserver(n, null, bins));
                    for (int i = 0; i < batches.Count; i++)
                    {
                        observer.Observe(observed.Select(n => (obs[n], outs[i][n])).Append((obs[input], batches[i][input])).ToList());
                    }
                });
            }

            var request = new CalibrationRequest { Tensors = needed, BatchSize = batch, Bins = bins };
            Time($"Calibrator.Run bins {bins}", () => Calibrator.Run(model, data, request));
            Time($"Calibrator.Run bins {bins}, allow_spinning 1", () => Calibrator.Run(model, data, request, spin));
            var budget = request with { ActivationBudgetBytes = new MemoryBudget(MemoryBudget.Default().Bytes).ActivationBytes(new FileInfo(config.ModelPath).Length), BatchSizeFromBudget = false };
            Time($"Calibrator.Run bins {bins}, with budget (as the pipeline)", () => Calibrator.Run(model, data, budget));
            var keepSpinning = new SessionOptions();
            keepSpinning.AddConfigEntry("session.force_spinning_stop", "0");
            Time($"Calibrator.Run bins {bins}, with budget, force_spinning_stop 0", () => Calibrator.Run(model, data, budget, keepSpinning));
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
