using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Tests.Support;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Tests;

public sealed class ModelFileErrorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_missing_model_file_is_QB1101()
    {
        AssertError("QB1101", _temp.File("nope.onnx"));
    }

    [Fact]
    public void An_empty_model_file_is_QB1102()
    {
        string path = _temp.File("empty.onnx");
        File.WriteAllBytes(path, []);
        AssertError("QB1102", path);
    }

    [Fact]
    public void A_truncated_model_file_is_QB1102()
    {
        byte[] whole = OnnxModelSaver.SaveToBytes(ModelBuilder.WithWeights(1000));
        string path = _temp.File("cut.onnx");
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        AssertError("QB1102", path);
    }

    [Fact]
    public void A_text_file_is_QB1103_not_an_onnx_model()
    {
        string path = _temp.File("readme.onnx");
        File.WriteAllText(path, "This is a text file, not a model.\nSecond line.\n");
        QuantBuildException error = AssertError("QB1103", path);
        Assert.Contains("text", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_git_lfs_pointer_is_QB1103_with_the_lfs_hint()
    {
        string path = _temp.File("lfs.onnx");
        File.WriteAllText(path, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n");
        QuantBuildException error = AssertError("QB1103", path);
        Assert.Contains("git lfs pull", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Random_bytes_are_QB1103_not_an_onnx_model(int seed)
    {
        byte[] noise = new byte[4096];
        new Random(seed).NextBytes(noise);
        string path = _temp.File($"noise{seed}.onnx");
        File.WriteAllBytes(path, noise);
        AssertError("QB1103", path);
    }

    [Fact]
    public void A_missing_external_data_file_is_QB1104()
    {
        string path = _temp.File("m.onnx");
        OnnxModelSaver.Save(ModelBuilder.WithWeights(4096), path, new OnnxSaveOptions { UseExternalData = true });
        File.Delete(path + ".data");
        QuantBuildException error = AssertError("QB1104", path);
        Assert.Contains("m.onnx.data", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_beyond_the_end_of_its_file_is_QB1105()
    {
        string path = _temp.File("m.onnx");
        OnnxModelSaver.Save(ModelBuilder.WithWeights(4096), path, new OnnxSaveOptions { UseExternalData = true });
        byte[] data = File.ReadAllBytes(path + ".data");
        File.WriteAllBytes(path + ".data", data[..(data.Length - 100)]);
        AssertError("QB1105", path);
    }

    [Theory]
    [InlineData("../outside.data")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/../../outside.data")]
    public void External_data_outside_the_model_folder_is_QB1106(string location)
    {
        OnnxModel model = ModelBuilder.WithWeights(4);
        TensorValue weight = model.Graph.Initializers[0];
        OnnxTensorFields.SetExternalData(weight, new ExternalDataReference { Location = location, Offset = 0, Length = 16 });
        byte[] bytes = ExternalDataFixtures.SaveWithExternalReference(model);
        string path = _temp.File("escape.onnx");
        File.WriteAllBytes(path, bytes);
        AssertError("QB1106", path);
    }

    [Fact]
    public void A_tensor_whose_bytes_do_not_match_its_shape_is_QB1107()
    {
        OnnxModel model = ModelBuilder.WithWeights(4);
        model.Graph.Initializers[0].Dims = [5];
        string path = _temp.File("bad.onnx");
        File.WriteAllBytes(path, OnnxModelSaver.SaveToBytes(model));
        AssertError("QB1107", path);
    }

    [Fact]
    public void Every_QB_code_is_documented_in_docs_errors_md()
    {
        string doc = File.ReadAllText(Path.Combine(TestModels.RepoRoot(), "docs", "errors.md"));
        foreach (string code in ModelFileErrors.AllCodes)
        {
            Assert.Contains($"| {code} |", doc, StringComparison.Ordinal);
        }
    }

    private static QuantBuildException AssertError(string code, string path)
    {
        var error = Assert.Throws<QuantBuildException>(() => OnnxModelLoader.Load(path));
        Assert.Equal(code, error.Code);
        Assert.Contains(Path.GetFileName(path), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.Fix));
        Assert.Equal(path, error.FilePath);
        return error;
    }
}
