using System.Diagnostics;
using Google.Protobuf;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Tests.Support;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Tests;

/// <summary>
/// Model files built to hurt the loader (issue 15): each once crashed, hung, or read outside the model's folder.
/// Each must now end in a QB code naming the file, promptly.
/// </summary>
public sealed class HostileModelTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Twenty_thousand_nested_subgraphs_are_QB1112_not_a_stack_overflow()
    {
        byte[] graph = DeepGraph(20_000);
        byte[] model = [.. Varint(1 << 3), .. Varint(8), .. Field(7, graph), .. Field(8, new OperatorSetIdProto { Version = 13 }.ToByteArray())];
        string path = _temp.File("deep.onnx");
        File.WriteAllBytes(path, model);

        AssertError("QB1112", path);
    }

    [Fact]
    public void External_data_through_a_symlink_leading_outside_the_model_folder_is_QB1106_and_never_read()
    {
        string outside = Path.Combine(Path.GetTempPath(), $"qb-secret-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(outside, Enumerable.Repeat((byte)0x42, 64).ToArray());
        try
        {
            string path = ModelWithExternal("weights.bin", 16);
            File.CreateSymbolicLink(_temp.File("weights.bin"), outside);

            QuantBuildException e = AssertError("QB1106", path);
            Assert.Contains(outside, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact]
    public void A_symlinked_folder_inside_the_model_folder_cannot_lead_out_either()
    {
        string outside = Path.Combine(Path.GetTempPath(), $"qb-outdir-{Guid.NewGuid():N}");
        Directory.CreateDirectory(outside);
        try
        {
            File.WriteAllBytes(Path.Combine(outside, "w.bin"), new byte[64]);
            Directory.CreateSymbolicLink(_temp.File("sub"), outside);
            string path = ModelWithExternal("sub/w.bin", 16);

            AssertError("QB1106", path);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void A_symlink_to_a_file_inside_the_folder_still_loads()
    {
        string path = _temp.File("m.onnx");
        OnnxModelSaver.Save(ModelBuilder.WithWeights(4096), path, new OnnxSaveOptions { UseExternalData = true });
        File.Move(path + ".data", _temp.File("real.data"));
        File.CreateSymbolicLink(path + ".data", "real.data");

        Assert.Equal(4096 * 4, OnnxModelLoader.Load(path).Graph.Initializers[0].Data.Length);
    }

    [Fact]
    public void A_FIFO_as_external_data_is_QB1111_without_blocking()
    {
        string path = ModelWithExternal("fifo.bin", 16);
        MakeFifo(_temp.File("fifo.bin"));

        AssertErrorWithin("QB1111", path, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Dev_zero_behind_a_symlink_as_external_data_is_refused()
    {
        string path = ModelWithExternal("zero.bin", 16);
        File.CreateSymbolicLink(_temp.File("zero.bin"), "/dev/zero");

        // Outside the folder and a device: either reason refuses it, and nothing is read.
        QuantBuildException e = AssertErrorWithin("QB1106", path, TimeSpan.FromSeconds(10));
        Assert.Contains("/dev/zero", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dangling_external_data_symlink_is_a_QB_code_not_QB0001()
    {
        string path = ModelWithExternal("gone.bin", 16);
        File.CreateSymbolicLink(_temp.File("gone.bin"), "nowhere.bin");

        QuantBuildException e = Assert.Throws<QuantBuildException>(() => OnnxModelLoader.Load(path));
        Assert.Equal("QB1111", e.Code);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dev_zero_and_a_FIFO_as_the_model_itself_are_refused_without_blocking()
    {
        string zero = _temp.File("zero.onnx");
        File.CreateSymbolicLink(zero, "/dev/zero");
        AssertErrorWithin("QB1111", zero, TimeSpan.FromSeconds(10));

        // A FIFO has no length, so it is refused as empty before anything opens it.
        string fifo = _temp.File("fifo.onnx");
        MakeFifo(fifo);
        AssertErrorWithin("QB1102", fifo, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_tensor_file_at_proc_self_mem_is_refused()
    {
        var e = Assert.Throws<QuantBuildException>(() => OnnxTensorFile.Load("/proc/self/mem"));
        Assert.Equal("QB1111", e.Code);
    }

    [Fact]
    public void Tensor_fields_that_contradict_each_other_are_a_QB_code()
    {
        // A 2x2 float tensor whose data says 3 floats, and one with dims that overflow when multiplied.
        var model = ModelBuilder.WithWeights(4);
        ModelProto proto = ModelProto.Parser.ParseFrom(OnnxModelSaver.SaveToBytes(model));
        TensorProto t = proto.Graph.Initializer[0];
        t.ClearRawData();
        t.Dims.Clear();
        t.Dims.Add(long.MaxValue / 2);
        t.Dims.Add(4);
        t.FloatData.Add(1f);
        string path = _temp.File("overflow.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());

        QuantBuildException e = Assert.Throws<QuantBuildException>(() => OnnxModelLoader.Load(path));
        Assert.StartsWith("QB11", e.Code, StringComparison.Ordinal);
    }

    private string ModelWithExternal(string location, int elements)
    {
        OnnxModel model = ModelBuilder.WithWeights(elements / 4);
        OnnxTensorFields.SetExternalData(model.Graph.Initializers[0], new ExternalDataReference { Location = location, Offset = 0, Length = elements });
        string path = _temp.File("model.onnx");
        File.WriteAllBytes(path, ExternalDataFixtures.SaveWithExternalReference(model));
        return path;
    }

    internal static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", path) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    private static QuantBuildException AssertErrorWithin(string code, string path, TimeSpan limit)
    {
        Task<QuantBuildException> load = Task.Run(() => Assert.Throws<QuantBuildException>(() => OnnxModelLoader.Load(path)));
        Assert.True(load.Wait(limit), $"loading {path} did not finish within {limit}");
        Assert.Equal(code, load.Result.Code);
        return load.Result;
    }

    private static QuantBuildException AssertError(string code, string path)
    {
        var error = Assert.Throws<QuantBuildException>(() => OnnxModelLoader.Load(path));
        Assert.True(code == error.Code, error.ToDiagnosticString());
        Assert.Contains(Path.GetFileName(path), error.Message, StringComparison.Ordinal);
        return error;
    }

    private static byte[] Field(int number, byte[] value) => [.. Varint((ulong)(number << 3 | 2)), .. Varint((ulong)value.Length), .. value];

    // Graph{node: Node{op_type: "If", attribute: Attribute{name: "b", g: Graph{...}, type: GRAPH}}}, `levels` deep,
    // written as wire bytes in one pass (outer prefixes, the leaf, then inner suffixes) so building it stays linear.
    private static byte[] DeepGraph(int levels)
    {
        byte[] leaf = new GraphProto { Name = "leaf" }.ToByteArray();
        byte[] suffix = [.. Varint(20 << 3), .. Varint(5)];
        var graphLength = new long[levels + 1];
        var nodeLength = new long[levels + 1];
        var attributeLength = new long[levels + 1];
        graphLength[0] = leaf.Length;
        for (int i = 1; i <= levels; i++)
        {
            attributeLength[i] = 3 + 1 + Varint((ulong)graphLength[i - 1]).Length + graphLength[i - 1] + suffix.Length;
            nodeLength[i] = 4 + 1 + Varint((ulong)attributeLength[i]).Length + attributeLength[i];
            graphLength[i] = 1 + Varint((ulong)nodeLength[i]).Length + nodeLength[i];
        }

        var output = new MemoryStream();
        for (int i = levels; i >= 1; i--)
        {
            output.Write([0x0A, .. Varint((ulong)nodeLength[i]), 0x22, 0x02, (byte)'I', (byte)'f']);
            output.Write([0x2A, .. Varint((ulong)attributeLength[i]), 0x0A, 0x01, (byte)'b', 0x32, .. Varint((ulong)graphLength[i - 1])]);
        }

        output.Write(leaf);
        for (int i = 1; i <= levels; i++)
        {
            output.Write(suffix);
        }

        Assert.Equal(graphLength[levels], output.Length);
        return output.ToArray();
    }

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return bytes.ToArray();
    }
}
