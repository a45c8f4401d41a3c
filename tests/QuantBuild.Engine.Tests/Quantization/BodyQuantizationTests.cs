using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Calibration;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Onnx;
using QuantBuild.PassKit;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>
/// Ops inside Loop and Scan bodies are calibrated through scan outputs of their Loop/Scan (every iteration's value) and
/// quantized like the main graph's; a loop that ran no iteration, and a body tensor whose shape changes from one
/// iteration to the next, leave their nodes fp32 with the reason. The models are Fixtures/make_control_flow_models.py's:
/// a torch.jit.script'ed RNN (Loop, Gemm and MatMul on outer-scope weights), the same with an If in the body, a Scan
/// built with onnx.helper (weights a body initializer, an outer initializer and a Constant node), and a Loop whose
/// carried sequence grows every step.
/// </summary>
public sealed class BodyQuantizationTests
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Loop_body_tensors_calibrate_to_the_ranges_of_the_body_run_by_hand_over_every_iteration()
    {
        OnnxModel model = Load("loop_rnn.onnx");
        Graph body = Body(model.Graph, "Loop");
        List<string> inBody = BodyTensors(model, body);
        Assert.Contains("h.11", inBody); // the carried state, a body input the MatMul reads
        Assert.Contains("/Add_output_0", inBody); // the Add of the Gemm's and the MatMul's outputs

        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), Steps(6));
        Dictionary<string, TensorRange> byHand = Unrolled(model, body, inBody, Steps(6),
            (x, t, h) => new() { ["t.1"] = Scalar(t), ["cond"] = True(), ["h.11"] = h }, "/Tanh_output_0", Zeros(64));

        foreach (string tensor in inBody)
        {
            Assert.True(calibrated.Observers[tensor].Count > 0, tensor);
            Assert.Equal(byHand[tensor].Min, calibrated.Observers[tensor].Min, 5);
            Assert.Equal(byHand[tensor].Max, calibrated.Observers[tensor].Max, 5);
        }
    }

    [Fact]
    public void A_pass_captures_a_loop_body_tensor_with_every_iteration_stacked_ahead_of_the_batch()
    {
        OnnxModel model = Load("loop_rnn.onnx");
        Graph body = Body(model.Graph, "Loop");
        List<DenseTensor> batches = Steps(6);
        using IDataSource data = new InMemoryDataSource("x", [("x", Concat(batches))]);
        var context = new QuantBuild.Engine.Plugins.PassContext("x64", "capture-pass", model, DeviceProfiles.CpuX64Vnni, new QuantBuild.Abstractions.Passes.TargetWeightFormat(8, true, null), 1,
            new QuantBuild.Engine.Plugins.PassEnvironment { Calibration = data, BatchSize = 4 }, new QuantBuild.Engine.Plugins.RecipeDecisions(), CancellationToken.None);

        DenseTensor captured = context.CaptureActivations(["/Add_output_0"], 4)["/Add_output_0"];

        // One batch of 4 sequences, 6 steps of 64: each step's [4, 64] stacked on axis 0.
        Assert.Equal([6L, 4, 64], captured.ShapeArray());
        Dictionary<string, TensorRange> byHand = Unrolled(model, body, ["/Add_output_0"], batches.Take(1),
            (x, t, h) => new() { ["t.1"] = Scalar(t), ["cond"] = True(), ["h.11"] = h }, "/Tanh_output_0", Zeros(64));
        float[] values = captured.AsSpan<float>().ToArray();
        Assert.Equal(byHand["/Add_output_0"].Min, values.Min(), 5);
        Assert.Equal(byHand["/Add_output_0"].Max, values.Max(), 5);
    }

    [Fact]
    public void Loop_body_gets_QDQ_on_its_Gemm_and_MatMul_and_the_quantized_model_stays_within_cosine_0_99()
    {
        OnnxModel model = Load("loop_rnn.onnx");
        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), Steps(6));

        EncodeResult result = QdqEncoder.Encode(model, Ranges(calibrated), Vnni);

        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "/wx/Gemm");
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "/wh/MatMul");
        Assert.Contains(result.UnquantizedNodes, n => n.NodeName == "/Loop" && n.Reason.Contains("ops in its body are quantized", StringComparison.Ordinal));
        Graph body = Body(result.Model.Graph, "Loop");
        Assert.Contains(body.Nodes, n => n.OpType == "QuantizeLinear");
        // The outer-scope weights are int8 codes the body holds itself, dequantized where the body reads them.
        Node matmul = body.Nodes.Single(n => n.Name == "/wh/MatMul");
        Node dq = body.ProducerOf(matmul.Inputs[1]);
        Assert.Equal("DequantizeLinear", dq.OpType);
        Assert.Equal(ElementType.Int8, body.Initializers.Single(t => t.Name == dq.Inputs[0]).ElementType);
        Assert.DoesNotContain(Body(model.Graph, "Loop").Nodes, n => n.OpType == "DequantizeLinear"); // the input model is untouched
        // x[:, t] is sliced from the whole sequence: quantizing x inside the body would convert all of it every step.
        Assert.Contains(result.UnquantizedNodes, n => n.NodeName == "/Gather_2" && n.Reason.StartsWith("reads 'x' from outside its loop", StringComparison.Ordinal));
        Assert.DoesNotContain(body.Nodes, n => n.OpType == "QuantizeLinear" && n.Inputs[0] == "x");

        foreach (DenseTensor x in Steps(6).Take(2).Append(Input(99, 4, 17)))
        {
            float[] expected = OrtHarness.Run(model, "x", x, "y");
            float[] actual = OrtHarness.Run(result.Model, "x", x, "y");
            Assert.True(OrtHarness.Cosine(expected, actual) > 0.99, $"cosine {OrtHarness.Cosine(expected, actual)}");
            Assert.NotEqual(expected, actual);
        }
    }

    [Fact]
    public void Scan_body_tensors_calibrate_to_every_iteration_and_its_MatMuls_are_quantized_with_weights_from_all_three_places()
    {
        OnnxModel model = Load("scan_rnn.onnx");
        Graph body = Body(model.Graph, "Scan");
        List<string> inBody = BodyTensors(model, body);
        Assert.Contains("x_t", inBody); // a scan input slice
        Assert.Contains("h_in", inBody); // the carried state

        List<DenseTensor> data = Enumerable.Range(0, 3).Select(i => Input(40 + i, 4, 7, 8)).ToList();
        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), data);
        Dictionary<string, TensorRange> byHand = Unrolled(model, body, inBody, data,
            (x, t, h) => new() { ["h_in"] = h, ["x_t"] = Slice(x, t) }, "h_out", Zeros(16));
        foreach (string tensor in inBody)
        {
            Assert.Equal(byHand[tensor].Min, calibrated.Observers[tensor].Min, 5);
            Assert.Equal(byHand[tensor].Max, calibrated.Observers[tensor].Max, 5);
        }

        EncodeResult result = QdqEncoder.Encode(model, Ranges(calibrated), Vnni);

        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "scan_x_matmul"); // Wx: the body's initializer
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "scan_h_matmul"); // Wh: the main graph's
        Graph quantized = Body(result.Model.Graph, "Scan");
        Assert.Contains(quantized.Nodes, n => n.OpType == "QuantizeLinear");
        Assert.Equal("DequantizeLinear", quantized.ProducerOf(quantized.Nodes.Single(n => n.Name == "scan_h_matmul").Inputs[1]).OpType);
        DenseTensor x = Input(77, 4, 9, 8);
        foreach (string output in new[] { "y", "h" })
        {
            float[] expected = OrtHarness.Run(model, "x", x, output);
            float[] actual = OrtHarness.Run(result.Model, "x", x, output);
            Assert.True(OrtHarness.Cosine(expected, actual) > 0.99, $"{output}: cosine {OrtHarness.Cosine(expected, actual)}");
        }
    }

    [Fact]
    public void A_channel_axis_asked_of_a_body_tensor_counts_past_the_iteration_axis_and_one_of_a_flattened_If_tensor_is_refused_with_the_reason()
    {
        OnnxModel scan = Load("scan_rnn.onnx");
        List<DenseTensor> data = Enumerable.Range(0, 2).Select(i => Input(50 + i, 4, 6, 8)).ToList();
        using IDataSource source = new InMemoryDataSource("x", [("x", Concat(data))]);

        // xw = x_t·Wx is [batch, 16] in every step, fetched as [steps, batch, 16]: axis 1 (and -1) of the tensor is its 16 columns.
        CalibrationResult calibrated = Calibrator.Run(scan, source, new CalibrationRequest
        {
            Tensors = ["xw", "pre"], ChannelAxes = new Dictionary<string, int> { ["xw"] = 1, ["pre"] = -1 }, BatchSize = 4, BatchSizeFromBudget = false, Bins = 0,
        });
        Dictionary<string, float[]> byHand = ColumnAbsMax(scan, Body(scan.Graph, "Scan"), ["xw", "pre"], data);
        foreach (string tensor in new[] { "xw", "pre" })
        {
            Assert.Equal(16, calibrated.Observers[tensor].ChannelAbsMax.Length);
            Assert.Equal(byHand[tensor], calibrated.Observers[tensor].ChannelAbsMax.ToArray());
        }

        OnnxModel looped = Load("loop_if.onnx");
        using IDataSource steps = new InMemoryDataSource("x", [("x", Concat(Steps(4)))]);
        CalibrationResult flat = Calibrator.Run(looped, steps, new CalibrationRequest
        {
            Tensors = ["/wx/Gemm_output_0", "/Add_output_0"], ChannelAxes = new Dictionary<string, int> { ["/wx/Gemm_output_0"] = 1 }, BatchSize = 4, BatchSizeFromBudget = false, Bins = 0,
        });
        Assert.Contains("without the channel axis", flat.Unobserved["/wx/Gemm_output_0"], StringComparison.Ordinal);
        Assert.Equal(0, flat.Observers["/wx/Gemm_output_0"].Count);
        Assert.True(flat.Observers["/Add_output_0"].Count > 0); // the same branch, no axis asked: gathered and observed
    }

    [Fact]
    public void A_loop_that_ran_no_iteration_on_the_calibration_data_leaves_its_body_fp32_with_the_reason()
    {
        OnnxModel model = Load("loop_rnn.onnx");
        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), [Input(5, 4, 0), Input(6, 4, 0)]);
        Assert.All(BodyTensors(model, Body(model.Graph, "Loop")), t => Assert.Equal(0, calibrated.Observers[t].Count));

        EncodeResult result = QdqEncoder.Encode(model, Ranges(calibrated), Vnni);

        Assert.Contains(new UnquantizedNode("/wx/Gemm", "Gemm", Branches.NotIterated), result.UnquantizedNodes);
        Assert.Contains(new UnquantizedNode("/wh/MatMul", "MatMul", Branches.NotIterated), result.UnquantizedNodes);
        Assert.DoesNotContain(Body(result.Model.Graph, "Loop").Nodes, n => n.OpType is "QuantizeLinear" or "DequantizeLinear");
    }

    [Fact]
    public void A_body_tensor_whose_shape_grows_every_iteration_stays_unobserved_and_its_MatMul_fp32_with_the_reason_while_the_rest_is_quantized()
    {
        OnnxModel model = Load("loop_growing.onnx");
        List<DenseTensor> data = Enumerable.Range(0, 2).Select(i => Flat(60 + i, 4, 16)).ToList();

        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), data);

        Assert.Equal(Branches.Varying("seq_in"), calibrated.Unobserved["seq_in"]);
        Assert.DoesNotContain("row", calibrated.Unobserved.Keys); // one row every step: the same shape each time
        Assert.True(calibrated.Observers["row"].Count > 0);
        EncodeResult result = QdqEncoder.Encode(model, Ranges(calibrated), Vnni with { Unobserved = calibrated.Unobserved });

        Assert.Contains(new UnquantizedNode("grow_seq_matmul", "MatMul", Branches.Varying("seq_in")), result.UnquantizedNodes);
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "grow_row_matmul");
        float[] expected = OrtHarness.Run(model, "x", data[0], "y");
        float[] actual = OrtHarness.Run(result.Model, "x", data[0], "y");
        Assert.True(OrtHarness.Cosine(expected, actual) > 0.99, $"cosine {OrtHarness.Cosine(expected, actual)}");
    }

    [Fact]
    public void A_body_tensor_whose_shape_first_varies_on_a_later_batch_is_left_unobserved_there_instead_of_failing_the_run()
    {
        // The growing loop with its trip count read from the data (⌊max x⌋): the first batch runs one iteration, so
        // nothing varies yet; the second runs three, and only then does the growing sequence change shape.
        OnnxModel model = Load("loop_growing.onnx");
        Graph g = model.Graph;
        g.Initializers.RemoveAt(g.Initializers.FindIndex(t => t.Name == "steps"));
        g.Nodes.Insert(0, new Node { OpType = "ReduceMax", Name = "steps_max", Inputs = { "x" }, Outputs = { "steps_max_out" }, Attributes = { NodeAttribute.FromInt("keepdims", 0) } });
        g.Nodes.Insert(1, new Node { OpType = "Floor", Name = "steps_floor", Inputs = { "steps_max_out" }, Outputs = { "steps_floor_out" } });
        g.Nodes.Insert(2, new Node { OpType = "Cast", Name = "steps_cast", Inputs = { "steps_floor_out" }, Outputs = { "steps" }, Attributes = { NodeAttribute.FromInt("to", (long)ElementType.Int64) } });
        float[] one = TestGraphs.Normal(70, 4 * 16, 0.2f).Select(v => Math.Clamp(Math.Abs(v), 0f, 1.9f)).ToArray();
        one[0] = 1.5f;
        float[] three = TestGraphs.Normal(71, 4 * 16, 0.2f).Select(v => Math.Clamp(Math.Abs(v), 0f, 1.9f)).ToArray();
        three[5] = 3.2f;
        List<DenseTensor> data = [DenseTensor.FromFloats(one, 4, 16), DenseTensor.FromFloats(three, 4, 16)];

        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), data);

        Assert.Equal(Branches.Varying("seq_in"), calibrated.Unobserved["seq_in"]);
        Assert.DoesNotContain("row", calibrated.Unobserved.Keys);
        // Both batches observed: the row MatMul's input over 1 + 3 iterations of 4 rows.
        Assert.Equal(4 * 16 * 4, calibrated.Observers["row"].Count);
        EncodeResult result = QdqEncoder.Encode(model, Ranges(calibrated), Vnni with { Unobserved = calibrated.Unobserved });
        Assert.Contains(new UnquantizedNode("grow_seq_matmul", "MatMul", Branches.Varying("seq_in")), result.UnquantizedNodes);
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "grow_row_matmul");
    }

    [Fact]
    public void An_If_inside_a_Loop_body_whose_branches_alternate_is_calibrated_over_the_iterations_that_took_each_branch_and_quantized()
    {
        OnnxModel model = Load("loop_if.onnx");
        Graph body = Body(model.Graph, "Loop");
        Node branching = body.Nodes.Single(n => n.OpType == "If");
        Graph then = branching.FindAttribute("then_branch")!.Graph!, otherwise = branching.FindAttribute("else_branch")!.Graph!;
        Graph[] steps = [Inlined(body, branching, then), Inlined(body, branching, otherwise)];
        List<string> inBranches = BodyTensors(model, then).Concat(BodyTensors(model, otherwise)).ToList();
        Assert.Contains("/wx/Gemm_output_0", inBranches);
        Assert.Contains("/vh/MatMul_output_0", inBranches);

        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), Steps(5));
        Dictionary<string, TensorRange> byHand = Unrolled(model, steps, t => t % 2, inBranches.Append("h.29").ToList(), Steps(5),
            (x, t, h) => new() { ["t.1"] = Scalar(t), ["cond"] = True(), ["h.29"] = h }, "/If_output_0", Zeros(64));
        Assert.Empty(calibrated.Unobserved);
        foreach (string tensor in inBranches.Append("h.29"))
        {
            Assert.Equal(byHand[tensor].Min, calibrated.Observers[tensor].Min, 5);
            Assert.Equal(byHand[tensor].Max, calibrated.Observers[tensor].Max, 5);
        }

        EncodeResult result = QdqEncoder.Encode(model, Ranges(calibrated), Vnni);

        foreach (string layer in new[] { "/wx/Gemm", "/wh/MatMul", "/vx/Gemm", "/vh/MatMul", "/out/Gemm" })
        {
            Assert.Contains(result.QuantizedLayers, l => l.NodeName == layer);
        }

        Node written = Body(result.Model.Graph, "Loop").Nodes.Single(n => n.OpType == "If");
        Assert.Contains(written.FindAttribute("else_branch")!.Graph!.Nodes, n => n.OpType == "QuantizeLinear");
        foreach (DenseTensor x in new[] { Input(91, 4, 5), Input(92, 2, 8) })
        {
            float[] expected = OrtHarness.Run(model, "x", x, "y");
            float[] actual = OrtHarness.Run(result.Model, "x", x, "y");
            Assert.True(OrtHarness.Cosine(expected, actual) > 0.99, $"cosine {OrtHarness.Cosine(expected, actual)}");
        }
    }

    [Fact]
    public void A_Loop_inside_a_Loop_body_stacks_its_body_tensors_over_both_loops_and_is_quantized_inside()
    {
        OnnxModel model = Nested(inIf: false);
        DenseTensor x = Flat(70, 4, 16);

        CalibrationResult calibrated = Calibrate(model, QdqEncoder.Plan(model, Vnni), [x, Flat(71, 4, 16)]);

        // g, the inner body's carried value, seen in 3 outer × 2 inner iterations of each 4 × 16 batch.
        Assert.Equal(2 * 3 * 2 * 4 * 16, calibrated.Observers["g"].Count);
        EncodeResult result = QdqEncoder.Encode(model, Ranges(calibrated), Vnni);
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "inner_matmul");
        Graph inner = Body(Body(result.Model.Graph, "Loop"), "Loop");
        Assert.Equal("DequantizeLinear", inner.ProducerOf(inner.Nodes.Single(n => n.Name == "inner_matmul").Inputs[1]).OpType);
        Assert.True(OrtHarness.Cosine(OrtHarness.Run(model, "x", x, "y"), OrtHarness.Run(result.Model, "x", x, "y")) > 0.99);
    }

    [Fact]
    public void A_Loop_inside_an_If_branch_is_calibrated_through_both_and_stays_fp32_as_never_iterated_when_the_branch_is_not_taken()
    {
        OnnxModel model = Nested(inIf: true);
        DenseTensor x = Flat(72, 4, 16);
        IReadOnlyList<string> plan = QdqEncoder.Plan(model, Vnni);

        CalibrationResult taken = Calibrate(model, plan, [x], c: true);
        CalibrationResult other = Calibrate(model, plan, [x], c: false);

        Assert.Equal(2 * 4 * 16, taken.Observers["g"].Count);
        EncodeResult result = QdqEncoder.Encode(model, Ranges(taken), Vnni);
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "inner_matmul");
        Assert.True(OrtHarness.Cosine(Run(model, x, true), Run(result.Model, x, true)) > 0.99);
        Assert.Equal(0, other.Observers["g"].Count);
        Assert.Contains(new UnquantizedNode("inner_matmul", "MatMul", Branches.NotIterated), QdqEncoder.Encode(model, Ranges(other), Vnni).UnquantizedNodes);
    }

    [Fact]
    public void Inspect_gives_the_layers_inside_a_loop_body_the_verdicts_the_encoder_plans()
    {
        string path = Fixture("loop_rnn.onnx");
        var report = QuantBuild.Engine.Inspection.ModelInspector.Inspect(Load("loop_rnn.onnx"), path);

        Assert.Null(report.Quantizable.Single(q => q.Name == "/wx/Gemm").Fp32Reason);
        Assert.Null(report.Quantizable.Single(q => q.Name == "/wh/MatMul").Fp32Reason);
    }

    private static string Fixture(string name) => DynamicActivationTests.Fixture(name);

    private static OnnxModel Load(string name) => OnnxModelLoader.Load(Fixture(name));

    private static Graph Body(Graph graph, string opType) => graph.Nodes.Single(n => n.OpType == opType).FindAttribute("body")!.Graph!;

    // The planned tensors that are the body's own (computed in it or its inputs), in plan order.
    private static List<string> BodyTensors(OnnxModel model, Graph body)
    {
        var own = new HashSet<string>(body.Nodes.SelectMany(n => n.Outputs).Concat(body.Inputs.Select(i => i.Name)), StringComparer.Ordinal);
        return QdqEncoder.Plan(model, Vnni).Where(own.Contains).ToList();
    }

    private static Dictionary<string, TensorRange> Ranges(CalibrationResult calibrated) =>
        calibrated.Observers.Where(o => o.Value.Count > 0).ToDictionary(o => o.Key, o => new TensorRange(o.Value.Min, o.Value.Max), StringComparer.Ordinal);

    private static CalibrationResult Calibrate(OnnxModel model, IReadOnlyList<string> tensors, IReadOnlyList<DenseTensor> batches, bool? c = null)
    {
        using IDataSource data = c is bool taken
            ? ConstantInputSource.Wrap(new InMemoryDataSource("x", [("x", Concat(batches))]), model,
                [new InputBindingConfig("c", taken ? 1 : 0, Array.Empty<long>(), new SourceLocation("test.yaml", 1, 1))])
            : new InMemoryDataSource("x", [("x", Concat(batches))]);
        return Calibrator.Run(model, data, new CalibrationRequest { Tensors = tensors, BatchSize = (int)batches[0].Shape[0], BatchSizeFromBudget = false, Bins = 0 });
    }

    /// <summary>
    /// Min/max of <paramref name="tensors"/> over every iteration of every batch, from the body run as a plain graph
    /// (the outer graph's initializers and Constant nodes in scope), one run per iteration with the carried state fed back.
    /// </summary>
    private static Dictionary<string, TensorRange> Unrolled(OnnxModel model, Graph body, List<string> tensors, IEnumerable<DenseTensor> batches,
        Func<DenseTensor, int, DenseTensor, Dictionary<string, DenseTensor>> feeds, string carried, Func<long, DenseTensor> initial) =>
        Unrolled(model, [body], _ => 0, tensors, batches, feeds, carried, initial);

    // The same with the body step t runs chosen by which(t) among bodies (an If inlined with one branch or the other).
    private static Dictionary<string, TensorRange> Unrolled(OnnxModel model, Graph[] bodies, Func<int, int> which, List<string> tensors,
        IEnumerable<DenseTensor> batches, Func<DenseTensor, int, DenseTensor, Dictionary<string, DenseTensor>> feeds, string carried, Func<long, DenseTensor> initial)
    {
        var sessions = new List<(InferenceSession Session, Graph Step, List<string> Fetched)>();
        foreach (Graph body in bodies)
        {
            var step = new Graph { Name = "step" };
            step.Nodes.AddRange(model.Graph.Nodes.Where(n => n.OpType == "Constant"));
            step.Nodes.AddRange(body.Nodes);
            step.Inputs.AddRange(model.Graph.Inputs);
            step.Inputs.AddRange(body.Inputs);
            step.Initializers.AddRange(model.Graph.Initializers);
            step.Initializers.AddRange(body.Initializers);
            step.Outputs.Add(new ValueInfo { Name = carried, Type = new TensorTypeInfo { ElementType = ElementType.Float } });
            var computed = new HashSet<string>(body.Nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);
            List<string> extra = tensors.Where(t => t != carried && computed.Contains(t)).ToList();
            sessions.Add((new InferenceSession(Calibrator.Augment(ModelClone.WithMainGraph(model, step), extra)), step, extra.Append(carried).ToList()));
        }

        var ranges = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        foreach (DenseTensor x in batches)
        {
            DenseTensor h = initial(x.Shape[0]);
            for (int t = 0; t < x.Shape[1]; t++)
            {
                (InferenceSession session, Graph step, List<string> fetched) = sessions[which(t)];
                Dictionary<string, DenseTensor> inputs = feeds(x, t, h);
                inputs["x"] = x;
                var outputs = session.Run(inputs.Where(kv => step.Inputs.Any(i => i.Name == kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value), fetched);
                foreach (string tensor in tensors.Where(t => inputs.ContainsKey(t) || outputs.ContainsKey(t)))
                {
                    DenseTensor value = inputs.TryGetValue(tensor, out DenseTensor? fed) ? fed : outputs[tensor];
                    float min = float.MaxValue, max = float.MinValue;
                    foreach (float v in value.AsSpan<float>())
                    {
                        min = Math.Min(min, v);
                        max = Math.Max(max, v);
                    }

                    ranges[tensor] = ranges.TryGetValue(tensor, out TensorRange? r) ? new TensorRange(Math.Min(r.Min, min), Math.Max(r.Max, max)) : new TensorRange(min, max);
                }

                h = outputs[carried];
            }
        }

        sessions.ForEach(s => s.Session.Dispose());
        return ranges;
    }

    // The body with the If replaced by the nodes of one of its branches, its output renamed to the If's.
    private static Graph Inlined(Graph body, Node branching, Graph branch)
    {
        Graph inlined = ModelClone.WithoutNodes(body);
        foreach (Node node in body.Nodes)
        {
            if (!ReferenceEquals(node, branching))
            {
                inlined.Nodes.Add(node);
                continue;
            }

            inlined.Nodes.AddRange(branch.Nodes);
            inlined.Nodes.Add(new Node { Name = "inlined_output", OpType = "Identity", Inputs = { branch.Outputs[0].Name }, Outputs = { node.Outputs[0] } });
        }

        return inlined;
    }

    // Per column (last axis) abs-max of the Scan body's tensors over every step of every batch, from the body run by hand.
    private static Dictionary<string, float[]> ColumnAbsMax(OnnxModel model, Graph body, string[] tensors, List<DenseTensor> batches)
    {
        var step = ModelClone.WithoutNodes(body);
        step.Nodes.AddRange(body.Nodes);
        step.Initializers.AddRange(model.Graph.Initializers);
        using var session = new InferenceSession(Calibrator.Augment(ModelClone.WithMainGraph(model, step), tensors));
        var result = tensors.ToDictionary(t => t, _ => new float[16], StringComparer.Ordinal);
        foreach (DenseTensor x in batches)
        {
            DenseTensor h = Zeros(16)(x.Shape[0]);
            for (int t = 0; t < x.Shape[1]; t++)
            {
                var outputs = session.Run(new Dictionary<string, DenseTensor> { ["h_in"] = h, ["x_t"] = Slice(x, t) }, tensors.Append("h_out").ToList());
                foreach (string tensor in tensors)
                {
                    ReadOnlySpan<float> values = outputs[tensor].AsSpan<float>();
                    for (int i = 0; i < values.Length; i++)
                    {
                        result[tensor][i % 16] = Math.Max(result[tensor][i % 16], Math.Abs(values[i]));
                    }
                }

                h = outputs["h_out"];
            }
        }

        return result;
    }

    // x [n,16] → (Loop of 3 | If(c) then) around a Loop of 2 whose body is g' = tanh(g·W), W an initializer of the main graph.
    private static OnnxModel Nested(bool inIf)
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 16));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "n", 16));
        g.AddWeight("W", 5, 0.3f, 16, 16);
        g.Initializers.Add(Rewrites.GraphConstantsForTests.Int64s("three", [3]));
        g.Initializers.Add(Rewrites.GraphConstantsForTests.Int64s("two", [2]));
        var inner = new Graph { Name = "inner" };
        inner.Inputs.Add(TestGraphs.Value("j", ElementType.Int64));
        inner.Inputs.Add(TestGraphs.Value("c2", ElementType.Bool));
        inner.Inputs.Add(TestGraphs.Value("g", ElementType.Float, "n", 16));
        inner.AddNode("MatMul", "inner_matmul", ["g", "W"], ["gw"]);
        inner.AddNode("Tanh", "inner_tanh", ["gw"], ["g_out"]);
        inner.AddNode("Identity", "inner_cond", ["c2"], ["c2_out"]);
        inner.Outputs.Add(TestGraphs.Value("c2_out", ElementType.Bool));
        inner.Outputs.Add(TestGraphs.Value("g_out", ElementType.Float, "n", 16));
        var outer = new Graph { Name = "outer" };
        if (inIf)
        {
            g.Inputs.Add(TestGraphs.Value("c", ElementType.Bool));
            outer.AddNode("Loop", "inner_loop", ["two", "", "x"], ["h2"], NodeAttribute.FromGraph("body", inner));
            outer.Outputs.Add(TestGraphs.Value("h2", ElementType.Float, "n", 16));
            var otherwise = new Graph { Name = "otherwise" };
            otherwise.AddNode("Identity", "pass", ["x"], ["passed"]);
            otherwise.Outputs.Add(TestGraphs.Value("passed", ElementType.Float, "n", 16));
            g.AddNode("If", "branch", ["c"], ["y"], NodeAttribute.FromGraph("then_branch", outer), NodeAttribute.FromGraph("else_branch", otherwise));
            return model;
        }

        outer.Inputs.Add(TestGraphs.Value("i", ElementType.Int64));
        outer.Inputs.Add(TestGraphs.Value("c", ElementType.Bool));
        outer.Inputs.Add(TestGraphs.Value("h", ElementType.Float, "n", 16));
        outer.AddNode("Loop", "inner_loop", ["two", "", "h"], ["h2"], NodeAttribute.FromGraph("body", inner));
        outer.AddNode("Identity", "outer_cond", ["c"], ["c_out"]);
        outer.Outputs.Add(TestGraphs.Value("c_out", ElementType.Bool));
        outer.Outputs.Add(TestGraphs.Value("h2", ElementType.Float, "n", 16));
        g.AddNode("Loop", "outer_loop", ["three", "", "x"], ["y"], NodeAttribute.FromGraph("body", outer));
        return model;
    }

    private static float[] Run(OnnxModel model, DenseTensor x, bool c)
    {
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model));
        var inputs = new Dictionary<string, DenseTensor> { ["x"] = x, ["c"] = new DenseTensor(ElementType.Bool, Array.Empty<long>(), new[] { (byte)(c ? 1 : 0) }) };
        return session.Run(inputs, new[] { "y" })["y"].AsSpan<float>().ToArray();
    }

    private static List<DenseTensor> Steps(int steps) => Enumerable.Range(1, 3).Select(i => Input(i, 4, steps)).ToList();

    private static DenseTensor Input(int seed, int batch, int steps) => DenseTensor.FromFloats(TestGraphs.Normal(seed, batch * steps * 32, 1f), batch, steps, 32);

    private static DenseTensor Input(int seed, int batch, int steps, int width) => DenseTensor.FromFloats(TestGraphs.Normal(seed, batch * steps * width, 1f), batch, steps, width);

    private static DenseTensor Flat(int seed, int batch, int width) => DenseTensor.FromFloats(TestGraphs.Normal(seed, batch * (int)width, 1f), batch, width);

    // Step t of x: [batch, width] of [batch, steps, width].
    private static DenseTensor Slice(DenseTensor x, int t)
    {
        long batch = x.Shape[0], steps = x.Shape[1], width = x.Shape[2];
        ReadOnlySpan<float> all = x.AsSpan<float>();
        var values = new float[batch * width];
        for (long b = 0; b < batch; b++)
        {
            all.Slice((int)((b * steps + t) * width), (int)width).CopyTo(values.AsSpan((int)(b * width)));
        }

        return DenseTensor.FromFloats(values, batch, width);
    }

    private static DenseTensor Concat(IReadOnlyList<DenseTensor> parts)
    {
        float[] values = parts.SelectMany(p => p.AsSpan<float>().ToArray()).ToArray();
        long[] shape = parts[0].ShapeArray();
        shape[0] = parts.Sum(p => p.Shape[0]);
        return DenseTensor.FromFloats(values, shape);
    }

    private static Func<long, DenseTensor> Zeros(int width) => batch => DenseTensor.FromFloats(new float[batch * width], batch, width);

    private static DenseTensor Scalar(long value) => new(ElementType.Int64, Array.Empty<long>(), BitConverter.GetBytes(value));

    private static DenseTensor True() => new(ElementType.Bool, Array.Empty<long>(), new byte[] { 1 });
}
