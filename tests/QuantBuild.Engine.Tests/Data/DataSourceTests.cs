using System.IO.Compression;
using System.Text;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Data;

public sealed class DataSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantbuild-data-").FullName;
    private static readonly string[] SampleInput = { "input" };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DenseTensor Calibration => NpyReader.Read(TestFiles.Sample("calibration.npy"));

    [Fact]
    public void A_single_npy_feeds_a_single_input_model_row_range_by_row_range()
    {
        using var source = DataSources.Open(new DataSourceConfig { Kind = DataSourceKind.Npy, Path = TestFiles.Sample("calibration.npy") }, SampleInput);
        Assert.Equal(256, source.SampleCount);
        DenseTensor rows = source.Read(10, 5)["input"];
        Assert.Equal(new long[] { 5, 1, 28, 28 }, rows.ShapeArray());
        Assert.Equal(TensorRows.Slice(Calibration, 10, 5).Data.ToArray(), rows.Data.ToArray());
    }

    [Fact]
    public void An_npz_member_is_matched_to_the_input_by_name()
    {
        string path = Path.Combine(_dir, "data.npz");
        WriteNpz(path, ("input", TensorRows.Slice(Calibration, 0, 12)));
        using var source = DataSources.Open(new DataSourceConfig { Kind = DataSourceKind.Npz, Path = path }, SampleInput);
        Assert.Equal(12, source.SampleCount);
        Assert.Equal(TensorRows.Slice(Calibration, 3, 4).Data.ToArray(), source.Read(3, 4)["input"].Data.ToArray());
    }

    [Fact]
    public void An_npz_without_the_input_name_is_refused_with_the_names_it_has()
    {
        string path = Path.Combine(_dir, "data.npz");
        WriteNpz(path, ("ids", TensorRows.Slice(Calibration, 0, 2)), ("mask", TensorRows.Slice(Calibration, 0, 2)));
        var e = Assert.Throws<QuantBuildException>(() => DataSources.Open(new DataSourceConfig { Kind = DataSourceKind.Npz, Path = path }, SampleInput));
        Assert.Equal("QB1251", e.Code);
        Assert.Contains("ids", e.Message);
    }

    [Fact]
    public void Onnx_test_data_sets_are_stacked_in_numeric_order()
    {
        // test_data_set_10 must come after test_data_set_2, not between 1 and 2.
        int[] order = { 0, 1, 2, 10 };
        foreach (int n in order)
        {
            string set = Directory.CreateDirectory(Path.Combine(_dir, $"test_data_set_{n}")).FullName;
            OnnxTensorFile.Save(TensorRows.Slice(Calibration, n, 1), Path.Combine(set, "input_0.pb"), "input");
        }

        using var source = DataSources.Open(new DataSourceConfig { Kind = DataSourceKind.TensorProtoDirectory, Path = _dir }, SampleInput);
        Assert.Equal(4, source.SampleCount);
        Assert.Equal(TensorRows.Slice(Calibration, 10, 1).Data.ToArray(), source.Read(3, 1)["input"].Data.ToArray());
        Assert.Equal(TensorRows.Slice(Calibration, 2, 1).Data.ToArray(), source.Read(2, 1)["input"].Data.ToArray());
    }

    [Fact]
    public void The_onnx_backend_test_data_of_a_real_model_reads_as_one_sample()
    {
        string dir = Path.Combine(OnnxTestData.Root, "pytorch-converted", "test_Conv2d");
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(dir, "model.onnx"));
        var inputs = Batcher.ModelInputs(model).Select(i => i.Name).ToList();
        using var source = DataSources.Open(new DataSourceConfig { Kind = DataSourceKind.TensorProtoDirectory, Path = dir }, inputs);
        DenseTensor expected = OnnxTensorFile.Load(Path.Combine(dir, "test_data_set_0", "input_0.pb"));
        Assert.Equal(expected.Shape[0], source.SampleCount);
        Assert.Equal(expected.Data.ToArray(), source.Read(0, (int)expected.Shape[0])[inputs[0]].Data.ToArray());
    }

    [Fact]
    public void Per_input_files_must_hold_the_same_number_of_samples()
    {
        var config = new DataSourceConfig
        {
            Kind = DataSourceKind.PerInput,
            Inputs = new Dictionary<string, string> { ["a"] = TestFiles.Sample("calibration.npy"), ["b"] = TestFiles.Sample("eval_labels.npy") },
        };
        var e = Assert.Throws<QuantBuildException>(() => DataSources.Open(config, new[] { "a", "b" }));
        Assert.Equal("QB1250", e.Code);
    }

    [Fact]
    public void One_npy_for_a_model_with_several_inputs_is_refused()
    {
        var e = Assert.Throws<QuantBuildException>(() =>
            DataSources.Open(new DataSourceConfig { Kind = DataSourceKind.Npy, Path = TestFiles.Sample("calibration.npy") }, new[] { "ids", "mask" }));
        Assert.Equal("QB1252", e.Code);
    }

    [Fact]
    public void A_model_with_a_fixed_batch_of_one_gets_batches_of_one()
    {
        OnnxModel model = SampleModel();
        model.Graph.Inputs[0].TensorType!.Shape!.Dims.Replace(0, Dimension.Fixed(1));
        using var source = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        var batcher = new Batcher(source, model, requested: 32, maxSamples: 5);
        Assert.Equal(1, batcher.BatchSize);
        Assert.Equal(5, batcher.Batches().Count());
    }

    [Fact]
    public void A_symbolic_batch_takes_the_requested_size_and_a_short_last_batch()
    {
        using var source = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy"));
        var batcher = new Batcher(source, SampleModel(), requested: 100);
        Assert.Equal(new long[] { 100, 100, 56 }, batcher.Batches().Select(b => b["input"].Shape[0]).ToArray());
    }

    [Fact]
    public void Samples_of_the_wrong_shape_are_refused_before_any_run()
    {
        string path = Path.Combine(_dir, "flat.npy");
        WriteNpy(path, DenseTensor.Zeros(ElementType.Float, 4, 784));
        using var source = NpyDataSource.Single("input", path);
        var e = Assert.Throws<QuantBuildException>(() => new Batcher(source, SampleModel(), 2));
        Assert.Equal("QB1254", e.Code);
        Assert.Contains("[batch,1,28,28]", e.Message);
    }

    [Fact]
    public void Samples_of_the_wrong_type_are_refused_before_any_run()
    {
        string path = Path.Combine(_dir, "ints.npy");
        WriteNpy(path, DenseTensor.Zeros(ElementType.Int32, 4, 1, 28, 28));
        using var source = NpyDataSource.Single("input", path);
        var e = Assert.Throws<QuantBuildException>(() => new Batcher(source, SampleModel(), 2));
        Assert.Equal("QB1255", e.Code);
    }

    internal static OnnxModel SampleModel() => OnnxModelLoader.Load(Path.Combine(TestFiles.RepoRoot, "samples", "fashion-mnist", "model.onnx"));

    internal static void WriteNpy(string path, DenseTensor tensor) => QuantBuild.Tests.Shared.NpyFiles.Write(path, tensor);

    private static void WriteNpy(Stream stream, DenseTensor tensor) => QuantBuild.Tests.Shared.NpyFiles.Write(stream, tensor);

    private static void WriteNpz(string path, params (string Name, DenseTensor Tensor)[] arrays)
    {
        using ZipArchive zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach ((string name, DenseTensor tensor) in arrays)
        {
            using Stream entry = zip.CreateEntry(name + ".npy", CompressionLevel.Optimal).Open();
            WriteNpy(entry, tensor);
        }
    }
}
