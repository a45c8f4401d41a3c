using System.Diagnostics;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Onnx;

namespace QuantBuild.Engine.Tests.Data;

/// <summary>Data files and folders built to hurt the readers (issue 15): each must be a QB code, promptly.</summary>
public sealed class HostileDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quantbuild-hostile-").FullName;
    private static readonly string[] SampleInput = { "input" };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DenseTensor Calibration => NpyReader.Read(TestFiles.Sample("calibration.npy"));

    [Fact]
    public void A_0_d_tensor_in_a_test_data_set_is_QB1208_not_QB0001()
    {
        string set = Directory.CreateDirectory(Path.Combine(_dir, "test_data_set_0")).FullName;
        OnnxTensorFile.Save(new DenseTensor(ElementType.Float, [], new byte[4]), Path.Combine(set, "input_0.pb"), "input");
        set = Directory.CreateDirectory(Path.Combine(_dir, "test_data_set_1")).FullName;
        OnnxTensorFile.Save(new DenseTensor(ElementType.Float, [], new byte[4]), Path.Combine(set, "input_0.pb"), "input");

        var e = Assert.Throws<QuantBuildException>(() => Open(_dir));

        Assert.Equal("QB1208", e.Code);
        Assert.Contains("input_0.pb", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_data_sets_of_different_sample_shapes_are_QB1254()
    {
        string a = Directory.CreateDirectory(Path.Combine(_dir, "test_data_set_0")).FullName;
        OnnxTensorFile.Save(TensorRows.Slice(Calibration, 0, 1), Path.Combine(a, "input_0.pb"), "input");
        string b = Directory.CreateDirectory(Path.Combine(_dir, "test_data_set_1")).FullName;
        OnnxTensorFile.Save(new DenseTensor(ElementType.Float, [1, 3], new byte[12]), Path.Combine(b, "input_0.pb"), "input");

        Assert.Equal("QB1254", Assert.Throws<QuantBuildException>(() => Open(_dir)).Code);
    }

    [Fact]
    public void A_pb_symlink_leading_out_of_the_data_folder_is_QB1210()
    {
        string outside = Path.Combine(Path.GetTempPath(), $"qb-outside-{Guid.NewGuid():N}.pb");
        OnnxTensorFile.Save(TensorRows.Slice(Calibration, 0, 1), outside, "input");
        try
        {
            string set = Directory.CreateDirectory(Path.Combine(_dir, "test_data_set_0")).FullName;
            File.CreateSymbolicLink(Path.Combine(set, "input_0.pb"), outside);

            var e = Assert.Throws<QuantBuildException>(() => Open(_dir));

            Assert.Equal("QB1210", e.Code);
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact]
    public void Npy_readers_refuse_a_FIFO_and_dev_zero_without_blocking()
    {
        string fifo = Path.Combine(_dir, "fifo.npy");
        Fifo.Make(fifo);
        string zero = Path.Combine(_dir, "zero.npy");
        File.CreateSymbolicLink(zero, "/dev/zero");
        string zeroNpz = Path.Combine(_dir, "zero.npz");
        File.CreateSymbolicLink(zeroNpz, "/dev/zero");

        Assert.Equal("QB1210", Within(() => Assert.Throws<QuantBuildException>(() => NpyFile.Open(fifo))).Code);
        Assert.Equal("QB1210", Within(() => Assert.Throws<QuantBuildException>(() => NpyFile.Open(zero))).Code);
        Assert.Equal("QB1210", Within(() => Assert.Throws<QuantBuildException>(() => NpzReader.Open(zeroNpz))).Code);
        Assert.Equal("QB1210", Assert.Throws<QuantBuildException>(() => NpyFile.Open("/proc/self/mem")).Code);
    }

    [Fact]
    public void Fewer_samples_than_one_fixed_batch_is_QB1259()
    {
        // The sample model takes a free batch; a model pinned to batch 4 given 3 samples would run nothing.
        var model = DataSourceTests.SampleModel();
        model.Graph.Inputs[0].TensorType!.Shape!.Dims.Replace(0, Abstractions.Ir.Dimension.Fixed(4));
        using var source = new InMemoryDataSource("three.npy", [("input", TensorRows.Slice(Calibration, 0, 3))]);

        var e = Assert.Throws<QuantBuildException>(() => new Batcher(source, model, 8));

        Assert.Equal("QB1259", e.Code);
        Assert.Contains("fewer than one batch of 4", e.Message, StringComparison.Ordinal);
    }

    private static IDisposable Open(string dir) =>
        DataSources.Open(new DataSourceConfig { Kind = DataSourceKind.TensorProtoDirectory, Path = dir }, SampleInput);

    private static T Within<T>(Func<T> action)
    {
        Task<T> task = Task.Run(action);
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "did not finish within 10 s");
        return task.Result;
    }
}
