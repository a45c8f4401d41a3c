using System.Security.Cryptography;
using System.Text.Json;

namespace QuantBuild.Cli.Tests.Commands;

public class RunCommandTests
{
    private const string X64 = "  x64:\n    device: cpu-x64-vnni\n";

    [Fact]
    public void Run_on_the_sample_ships_an_int8_model_within_half_a_point_at_under_30_percent_of_the_size()
    {
        using var ws = new SampleWorkspace(X64);
        string modelPath = Path.Combine(RepoPaths.Root, "samples", "fashion-mnist", "model.onnx");
        byte[] before = SHA256.HashData(File.ReadAllBytes(modelPath));

        // --no-cache: this test is about what the pipeline computes, not what an earlier run stored.
        var (code, stdout, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath, "--json", "--no-cache");

        Assert.True(code == ExitCodes.Ok, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement target = Assert.Single(doc.RootElement.GetProperty("targets").EnumerateArray());
        Assert.Equal("x64", target.GetProperty("name").GetString());
        Assert.Equal("cpu-x64-vnni", target.GetProperty("device").GetString());
        Assert.Equal("passed", target.GetProperty("status").GetString());
        Assert.Equal("top1", target.GetProperty("metric").GetString());
        double fp32 = target.GetProperty("fp32Value").GetDouble();
        double int8 = target.GetProperty("quantizedValue").GetDouble();
        // PyTorch and make_sample.py's NumPy interpreter both score the sample 1838/2000 = 91.90 %; ONNX Runtime must agree.
        Assert.Equal(91.90, fp32, 6);
        Assert.True(fp32 - int8 <= 0.5, $"int8 {int8} vs fp32 {fp32}");

        string output = target.GetProperty("outputPath").GetString()!;
        long fp32Bytes = target.GetProperty("fp32Bytes").GetInt64();
        long int8Bytes = target.GetProperty("quantizedBytes").GetInt64();
        Assert.Equal(new FileInfo(modelPath).Length, fp32Bytes);
        Assert.Equal(new FileInfo(output).Length, int8Bytes);
        Assert.True(int8Bytes <= 0.30 * fp32Bytes, $"{int8Bytes} of {fp32Bytes} bytes");
        Assert.Contains(target.GetProperty("stages").EnumerateArray(), s => s.GetProperty("stage").GetString() == "calibrate");

        // The manifest beside the model records its provenance and numbers; the input model is untouched.
        string manifest = Path.ChangeExtension(output, null) + ".manifest.json";
        using JsonDocument m = JsonDocument.Parse(File.ReadAllText(manifest));
        Assert.Equal(Convert.ToHexString(before).ToLowerInvariant(), m.RootElement.GetProperty("source").GetProperty("sha256").GetString());
        Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(output))).ToLowerInvariant(),
            m.RootElement.GetProperty("model").GetProperty("sha256").GetString());
        Assert.Equal(int8, m.RootElement.GetProperty("metrics").GetProperty("quantized").GetDouble());
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(modelPath)));
        Assert.True(File.Exists(Path.Combine(ws.Output, "quantbuild-report.md")));
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(ws.Output, "quantbuild-report.html")));
        Assert.Empty(Directory.GetFiles(ws.Output, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Parallel_below_one_is_a_usage_error_before_any_work()
    {
        using var ws = new SampleWorkspace(X64);

        var (code, _, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath, "--parallel", "0");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--parallel must be at least 1", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(ws.Output, "model.x64.onnx")));
    }

    [Fact]
    public void Same_inputs_give_byte_identical_models()
    {
        using var ws = new SampleWorkspace(X64);
        // Both runs compute from scratch: a cache hit would prove nothing about determinism.
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("run", "-c", ws.ConfigPath, "--no-cache").ExitCode);
        byte[] first = File.ReadAllBytes(Path.Combine(ws.Output, "model.x64.onnx"));
        File.Delete(Path.Combine(ws.Output, "model.x64.onnx"));
        Assert.Equal(ExitCodes.Ok, CliRunner.Run("run", "-c", ws.ConfigPath, "--no-cache").ExitCode);
        Assert.Equal(first, File.ReadAllBytes(Path.Combine(ws.Output, "model.x64.onnx")));
    }

    [Fact]
    public void An_impossibly_tight_gate_exits_3_with_both_numbers_and_keeps_the_previous_model()
    {
        using var ws = new SampleWorkspace(X64 + "  strict:\n    device: cpu-x64-vnni\n    gate:\n      min: 99.9\n");
        string strictOutput = Path.Combine(ws.Output, "model.strict.onnx");
        Directory.CreateDirectory(ws.Output);
        File.WriteAllText(strictOutput, "previous good model");

        var (code, stdout, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath, "--json");

        Assert.Equal(ExitCodes.GateFailed, code);
        Assert.Matches(@"quantize\.yaml\(\d+,\d+\): error QB4000: Target 'strict' failed its accuracy gate: top1 fp32 9\d\.\d\d %, quantized 9\d\.\d\d %", stderr);
        Assert.Contains("min 99.90 %", stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        var statuses = doc.RootElement.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("status").GetString()).ToArray();
        Assert.Equal(new[] { "passed", "gateFailed" }, statuses);
        // A refused model is never put where the app picks it up; it goes to rejected/ for inspection.
        Assert.Equal("previous good model", File.ReadAllText(strictOutput));
        Assert.True(File.Exists(Path.Combine(ws.Output, "rejected", "model.strict.onnx")));
    }

    [Fact]
    public void Eval_rescoring_the_written_model_gives_the_numbers_run_gave()
    {
        using var ws = new SampleWorkspace(X64);
        var run = CliRunner.Run("run", "-c", ws.ConfigPath, "--json");
        var eval = CliRunner.Run("eval", "-c", ws.ConfigPath, "--json");
        Assert.Equal(ExitCodes.Ok, eval.ExitCode);
        double Quantized(string json) => JsonDocument.Parse(json).RootElement.GetProperty("targets")[0].GetProperty("quantizedValue").GetDouble();
        Assert.Equal(Quantized(run.Out), Quantized(eval.Out));
    }

    [Theory]
    [InlineData("percentile")]
    [InlineData("entropy")]
    [InlineData("mse")]
    public void Every_calibration_method_ships_a_model_within_the_gate(string method)
    {
        using var ws = new SampleWorkspace(X64, method: method);
        var (code, _, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath, "--no-cache");
        Assert.True(code == ExitCodes.Ok, stderr);
    }

    [Fact]
    public void A_config_error_exits_1_naming_the_yaml_line()
    {
        using var ws = new SampleWorkspace("  x64:\n    device: cpu-x64-vnii\n");
        var (code, _, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath);
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("quantize.yaml(", stderr);
        Assert.Contains("cpu-x64-vnni", stderr); // did you mean
    }

    [Fact]
    public void An_unknown_target_is_refused_with_the_known_ones()
    {
        using var ws = new SampleWorkspace(X64);
        var (code, _, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath, "-t", "x46");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("QB1019", stderr);
        Assert.Contains("'x64'", stderr);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("eval")]
    [InlineData("analyze")]
    public void A_nonsense_memory_budget_is_QB1030_before_any_model_work(string verb)
    {
        using var ws = new SampleWorkspace(X64);
        var (code, stdout, stderr) = CliRunner.Run(verb, "-c", ws.ConfigPath, "--memory-budget", "lots", "--json");
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("QB1030", stderr);
        Assert.DoesNotContain("Loaded", stderr);
        Assert.Equal(string.Empty, stdout.Trim());
    }

    [Fact]
    public void Every_stage_of_a_run_reports_its_peak_memory_in_the_json()
    {
        using var ws = new SampleWorkspace(X64);
        var (code, stdout, stderr) = CliRunner.Run("run", "-c", ws.ConfigPath, "--json", "--no-cache", "--memory-budget", "512MB");
        Assert.True(code == ExitCodes.Ok, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement target = Assert.Single(doc.RootElement.GetProperty("targets").EnumerateArray());
        foreach (JsonElement stage in doc.RootElement.GetProperty("stages").EnumerateArray().Concat(target.GetProperty("stages").EnumerateArray())
            .Where(s => s.GetProperty("stage").GetString() != "cache"))
        {
            Assert.True(stage.GetProperty("peakRssBytes").GetInt64() > 10 << 20, stage.ToString());
        }
    }

    [Fact]
    public void Init_writes_a_starter_yaml_that_loads()
    {
        string dir = Path.Combine(Path.GetTempPath(), "quantbuild-init-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string model = Path.Combine(dir, "model.onnx");
            File.Copy(Path.Combine(RepoPaths.Root, "samples", "fashion-mnist", "model.onnx"), model);
            var (code, stdout, stderr) = CliRunner.Run("init", "--model", model);
            Assert.True(code == ExitCodes.Ok, stderr);
            string yaml = Path.Combine(dir, "quantize.yaml");
            Assert.Contains(yaml, stdout);
            Assert.Contains("model:", File.ReadAllText(yaml));
            // A second init refuses to overwrite.
            Assert.Equal(ExitCodes.Error, CliRunner.Run("init", "--model", model).ExitCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
