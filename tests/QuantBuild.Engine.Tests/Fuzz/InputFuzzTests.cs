using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Tests.Config;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Fuzz;

/// <summary>
/// A bounded fuzz run (issue 15): a few hundred deterministic mutations of a valid quantize.yaml, of two models
/// and of an .npy file, each loaded in-process. Every outcome must be success or a QuantBuildException with a real
/// code (never QB0001, never another exception type) within the per-case limit. A failing case names its index;
/// Mutator reproduces it from that alone, so it can be kept as a regression test.
/// </summary>
public sealed class InputFuzzTests(ITestOutputHelper output) : IDisposable
{
    // QUANTBUILD_FUZZ_CASES runs a longer campaign (docs/reliability.md); CI runs the default in a few seconds.
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("QUANTBUILD_FUZZ_CASES"), out int n) && n > 0 ? n : 300;
    private static readonly TimeSpan PerCase = TimeSpan.FromSeconds(5);

    private readonly ConfigFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Seed = """
        model: model.onnx
        output: out
        calibration:
          data: data/calibration.npy
          method: percentile
          percentile: 99.9
          samples: 64
        evaluation:
          data: data/eval_images.npy
          labels: data/eval_labels.npy
          metric: top1
        gate:
          max_drop: 0.5
        targets:
          x64: &t
            device: cpu-x64-vnni
            recipe:
              - pass: smoothquant
                timeout_seconds: 60
          arm: *t
          w4:
            device: cpu-x64-vnni
            weights: {bits: 4, granularity: block, block_size: 32}
            output: model.w4.onnx
        """;

    [Fact]
    public void Mutated_yaml_fails_only_with_real_QB_codes_and_never_hangs()
    {
        var failures = new List<string>();
        for (int i = 0; i < Cases; i++)
        {
            string yaml = Mutator.Yaml(Seed, i);
            Check($"yaml #{i}", () =>
            {
                File.WriteAllText(_dir.YamlPath, yaml);
                QuantizeConfigLoader.Load(_dir.YamlPath);
            }, failures);
        }

        Report(failures);
    }

    [Fact]
    public void Mutated_models_fail_only_with_real_QB_codes_and_never_hang()
    {
        byte[][] seeds =
        [
            OnnxModelSaver.SaveToBytes(TestGraphs.SmallConvNet()),
            File.ReadAllBytes(Path.Combine(TestFiles.RepoRoot, "samples", "fashion-mnist", "model.onnx")),
        ];
        var failures = new List<string>();
        for (int i = 0; i < Cases; i++)
        {
            byte[] bytes = Mutator.Bytes(seeds[i % seeds.Length], i);
            Check($"model #{i}", () =>
            {
                OnnxModel model = OnnxModelLoader.LoadFromBytes(bytes, _dir.Root, "fuzz.onnx");
                // What the pipeline does next with a loaded model: serialize it again (the fp32 baseline bytes).
                OnnxModelSaver.SaveToBytes(model);
            }, failures);
        }

        Report(failures);
    }

    [Fact]
    public void Mutated_npy_files_fail_only_with_real_QB_codes_and_never_hang()
    {
        byte[] seed = File.ReadAllBytes(TestFiles.Sample("eval_labels.npy"));
        string path = _dir.P("fuzz.npy");
        var failures = new List<string>();
        for (int i = 0; i < Cases; i++)
        {
            byte[] bytes = Mutator.Bytes(seed, i);
            Check($"npy #{i}", () =>
            {
                File.WriteAllBytes(path, bytes);
                using NpyFile file = NpyFile.Open(path);
                file.ReadAll();
            }, failures);
        }

        Report(failures);
    }

    private readonly Dictionary<string, int> _outcomes = new(StringComparer.Ordinal);

    private void Report(List<string> failures)
    {
        output.WriteLine($"{Cases} cases: " + string.Join(", ", _outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private void Check(string name, Action action, List<string> failures)
    {
        Task run = Task.Run(action);
        try
        {
            if (!run.Wait(PerCase))
            {
                failures.Add($"{name}: still running after {PerCase.TotalSeconds} s");
                Count("hang");
            }
            else
            {
                Count("ok");
            }
        }
        catch (AggregateException e) when (e.InnerException is QuantBuildException qb)
        {
            Count(qb.Code);
            if (qb.Code is "QB0001" or null || !qb.Code.StartsWith("QB", StringComparison.Ordinal))
            {
                failures.Add($"{name}: {qb.Code} {qb.Message}");
            }
        }
        catch (AggregateException e)
        {
            Count("crash");
            failures.Add($"{name}: {e.InnerException!.GetType().Name}: {e.InnerException.Message}\n{e.InnerException.StackTrace}");
        }
    }

    private void Count(string outcome) => _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
}
