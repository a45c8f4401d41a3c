using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Sessions;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Sessions;

/// <summary>
/// Sessions on a file-backed model (weights referenced, never serialized into the session's protobuf) compute exactly
/// what a session on the model's full bytes computes.
/// </summary>
public sealed class ModelSessionsTests : IDisposable
{
    private const string FirstRelu = "/features/features.2/Relu_output_0";
    private readonly string _folder = Directory.CreateTempSubdirectory("qb-sessions-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static IReadOnlyDictionary<string, DenseTensor> Batch() =>
        new Dictionary<string, DenseTensor> { ["input"] = NpyDataSource.Single("input", TestFiles.Sample("calibration.npy")).Read(0, 16)["input"] };

    private OnnxModel FileBacked()
    {
        string path = Path.Combine(_folder, "model.onnx");
        OnnxModelSaver.Save(DataSourceTests.SampleModel(), path, new OnnxSaveOptions { UseExternalData = true });
        return OnnxModelLoader.Load(path);
    }

    [Fact]
    public void A_session_on_a_file_backed_model_gives_the_outputs_of_a_session_on_its_bytes()
    {
        OnnxModel model = FileBacked();
        Assert.Contains(model.Graph.Initializers, t => t.Data.Length >= 1024 && !MemoryMarshal.TryGetArray(t.Data, out _));

        using InferenceSession fromFile = ModelSessions.Open(model, null, [FirstRelu]);
        using var fromBytes = new InferenceSession(Calibrator.Augment(DataSourceTests.SampleModel(), [FirstRelu]));
        var a = fromFile.Run(Batch(), [FirstRelu, "logits"]);
        var b = fromBytes.Run(Batch(), [FirstRelu, "logits"]);

        Assert.Equal(b[FirstRelu].AsSpan<float>().ToArray(), a[FirstRelu].AsSpan<float>().ToArray());
        Assert.Equal(b["logits"].AsSpan<float>().ToArray(), a["logits"].AsSpan<float>().ToArray());
        Assert.DoesNotContain(model.Graph.Outputs, o => o.Name == FirstRelu);
    }

    [Fact]
    public void A_replaced_weight_is_used_while_the_others_stay_referenced()
    {
        OnnxModel model = FileBacked();
        TensorValue weight = model.Graph.Initializers.First(t => t.Data.Length >= 4096);
        float[] scaled = MemoryMarshal.Cast<byte, float>(weight.Data.Span).ToArray().Select(v => v * 0.5f).ToArray();
        weight.Data = MemoryMarshal.AsBytes(scaled.AsSpan()).ToArray();
        SessionGraph graph = OnnxModelSaver.SaveForSession(model);

        using InferenceSession changed = ModelSessions.Open(model);
        using var reference = new InferenceSession(OnnxModelSaver.SaveToBytes(model));

        Assert.True(graph.ReferencedBytes > 0 && graph.Graph.Length < OnnxModelSaver.SaveToBytes(model).Length);
        Assert.Equal(reference.Run(Batch())["logits"].AsSpan<float>().ToArray(), changed.Run(Batch())["logits"].AsSpan<float>().ToArray());
    }

    [Fact]
    public void An_inline_model_moved_to_a_weights_file_runs_the_same()
    {
        OnnxModel model = OnnxModelLoader.LoadFromBytes(OnnxModelSaver.SaveToBytes(DataSourceTests.SampleModel()));
        using var before = new InferenceSession(OnnxModelSaver.SaveToBytes(model));
        float[] expected = before.Run(Batch())["logits"].AsSpan<float>().ToArray();

        OnnxModelSaver.Externalize(model, Path.Combine(_folder, "run.weights"));
        using InferenceSession after = ModelSource.Model(model).Open();

        Assert.Equal(_folder, OnnxModelSaver.SaveForSession(model).WeightsFolder);
        Assert.Equal(expected, after.Run(Batch())["logits"].AsSpan<float>().ToArray());
    }

    [Fact]
    public void A_model_file_with_external_data_opens_by_path_like_its_bytes()
    {
        OnnxModel model = FileBacked();
        using InferenceSession byPath = ModelSource.File(Path.Combine(_folder, "model.onnx")).Open();
        using InferenceSession byBytes = ModelSource.Bytes(OnnxModelSaver.SaveToBytes(model)).Open();

        Assert.Equal(byBytes.Run(Batch())["logits"].AsSpan<float>().ToArray(), byPath.Run(Batch())["logits"].AsSpan<float>().ToArray());
    }

    [Fact]
    public void Extra_outputs_never_touch_the_shared_model_so_parallel_targets_can_open_sessions_on_it_at_once()
    {
        // Found by the run campaign: targets in parallel opened calibration sessions on the one fp32 model while
        // each appended and removed its extra outputs on it, and one target's removal cut the other's list (QB0001).
        OnnxModel model = FileBacked();
        string[] before = model.Graph.Outputs.Select(o => o.Name).ToArray();

        string[] seen = ModelSessions.WithOutputs(model, [FirstRelu], view =>
        {
            Assert.Equal(before, model.Graph.Outputs.Select(o => o.Name).ToArray());
            Assert.NotSame(model.Graph, view.Graph);
            Assert.Same(model.Graph.Nodes[0], view.Graph.Nodes[0]);
            return view.Graph.Outputs.Select(o => o.Name).ToArray();
        });

        Assert.Equal([.. before, FirstRelu], seen);
        Parallel.For(0, 16, _ =>
        {
            using InferenceSession session = ModelSessions.Open(model, null, [FirstRelu]);
            Assert.Equal(before.Length + 1, session.OutputMetadata.Count);
        });
        Assert.Equal(before, model.Graph.Outputs.Select(o => o.Name).ToArray());
    }
}
