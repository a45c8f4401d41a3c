using System.Text.Json;

namespace QuantBuild.Cli.Tests.Commands;

public class InspectCommandTests
{
    // The expected facts below were read from samples/fashion-mnist/model.onnx with Debian's python3-onnx
    // (onnx.load + numpy_helper), independently of QuantBuild's own loader.
    [Fact]
    public void Inspect_json_on_the_sample_reports_every_field_as_onnx_reads_it()
    {
        var (code, stdout, stderr) = CliRunner.Run("inspect", RepoPaths.SampleModel, "--json");
        Assert.True(code == ExitCodes.Ok, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement r = doc.RootElement;

        Assert.Equal(new FileInfo(RepoPaths.SampleModel).Length, r.GetProperty("fileBytes").GetInt64());
        Assert.Equal(8, r.GetProperty("irVersion").GetInt64());
        Assert.Equal("pytorch 1.13.0", r.GetProperty("producer").GetString());

        JsonElement opset = Assert.Single(r.GetProperty("opsets").EnumerateArray());
        Assert.Equal("ai.onnx", opset.GetProperty("domain").GetString());
        Assert.Equal(17, opset.GetProperty("version").GetInt64());

        JsonElement input = Assert.Single(r.GetProperty("inputs").EnumerateArray());
        Assert.Equal("input", input.GetProperty("name").GetString());
        Assert.Equal("float", input.GetProperty("elementType").GetString());
        Assert.Equal(new[] { "batch", "1", "28", "28" }, input.GetProperty("shape").EnumerateArray().Select(e => e.GetString()));

        JsonElement output = Assert.Single(r.GetProperty("outputs").EnumerateArray());
        Assert.Equal("logits", output.GetProperty("name").GetString());
        Assert.Equal(new[] { "batch", "10" }, output.GetProperty("shape").EnumerateArray().Select(e => e.GetString()));

        Assert.Equal(12, r.GetProperty("nodeCount").GetInt32());
        var ops = r.GetProperty("ops").EnumerateArray().Select(o => (o.GetProperty("opType").GetString(), o.GetProperty("count").GetInt32())).ToArray();
        Assert.Equal(new (string?, int)[] { ("Relu", 4), ("Conv", 3), ("Gemm", 2), ("MaxPool", 2), ("Flatten", 1) }, ops);

        Assert.Equal(229_514, r.GetProperty("parameterCount").GetInt64());
        Assert.Equal(918_056, r.GetProperty("parameterBytes").GetInt64());
        JsonElement floats = Assert.Single(r.GetProperty("parametersByType").EnumerateArray());
        Assert.Equal("float", floats.GetProperty("elementType").GetString());
        Assert.Equal(10, floats.GetProperty("tensors").GetInt32());

        Assert.False(r.GetProperty("usesExternalData").GetBoolean());
        Assert.False(r.GetProperty("alreadyQuantized").GetBoolean());

        var quantizable = r.GetProperty("quantizable").EnumerateArray()
            .Select(q => (q.GetProperty("opType").GetString(), q.GetProperty("weight").GetString(),
                string.Join(",", q.GetProperty("weightShape").EnumerateArray().Select(d => d.GetInt64())),
                q.GetProperty("weightIsConstant").GetBoolean()))
            .ToArray();
        Assert.Equal(new (string?, string?, string, bool)[]
        {
            ("Conv", "onnx::Conv_42", "16,1,3,3", true),
            ("Conv", "onnx::Conv_45", "32,16,3,3", true),
            ("Conv", "onnx::Conv_48", "64,32,3,3", true),
            ("Gemm", "classifier.1.weight", "128,1600", true),
            ("Gemm", "classifier.4.weight", "10,128", true),
        }, quantizable);
    }

    [Fact]
    public void Inspect_prints_readable_tables_with_symbolic_dims_by_name()
    {
        var (code, stdout, _) = CliRunner.Run("inspect", RepoPaths.SampleModel);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("[batch,1,28,28]", stdout);
        Assert.Contains("Layers (5, 5 quantized by `run` on cpu-x64-vnni)", stdout);
        Assert.Contains("classifier.1.weight", stdout);
        Assert.Contains("External data: none", stdout);
    }

    [Fact]
    public void Inspect_of_a_missing_file_fails_with_a_QB_code_naming_the_file()
    {
        string missing = Path.Combine(Path.GetTempPath(), "quantbuild-no-such-model.onnx");
        var (code, _, stderr) = CliRunner.Run("inspect", missing);
        Assert.Equal(ExitCodes.Error, code);
        Assert.Contains("QB1101", stderr);
        Assert.Contains(missing, stderr);
    }

    [Fact]
    public void Inspect_of_a_text_file_says_it_is_not_an_onnx_model()
    {
        string path = Path.Combine(Path.GetTempPath(), $"quantbuild-not-onnx-{Guid.NewGuid():N}.onnx");
        File.WriteAllText(path, "This is a README, not a model.\nIt has several lines of text.\n");
        try
        {
            var (code, _, stderr) = CliRunner.Run("inspect", path);
            Assert.Equal(ExitCodes.Error, code);
            Assert.Matches("error QB11\\d\\d", stderr);
            Assert.Contains(path, stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Inspect_of_a_truncated_model_fails_with_a_QB_code()
    {
        byte[] bytes = File.ReadAllBytes(RepoPaths.SampleModel);
        string path = Path.Combine(Path.GetTempPath(), $"quantbuild-truncated-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        try
        {
            var (code, _, stderr) = CliRunner.Run("inspect", path);
            Assert.Equal(ExitCodes.Error, code);
            Assert.Matches("error QB11\\d\\d", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_argument_is_a_usage_error()
    {
        var (code, _, stderr) = CliRunner.Run("inspect");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("error", stderr);
    }
}
