using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Quantization;
using QuantBuild.PassKit;

namespace QuantBuild.Engine.Calibration;

/// <summary>
/// Makes tensors computed inside If branches and Loop/Scan bodies observable: each becomes an extra output of its
/// subgraph, of the node that owns the subgraph (under a new unique name), and so on up the nesting to the main graph,
/// where <see cref="Sessions.ModelSessions"/> exposes it like any other tensor. ONNX Runtime requires both branches of
/// an If to have the same outputs, so the branch that does not compute a tensor outputs an empty float tensor in its
/// place: a run that takes that branch yields zero elements, which the observer counts as not seen, and a branch
/// the calibration data never takes ends with no range at all. A body's extra output is appended after its scan
/// outputs (a Scan's scan_output_axes/directions get a 0 for it), so ONNX Runtime stacks every iteration's value along
/// a new leading axis, exactly the values an observer wants; a loop that ran 0 iterations yields zero elements. A
/// body's inputs (carried state, scan slices) are exposed through an Identity. A body tensor whose shape changes
/// between iterations cannot be stacked: ONNX Runtime fails the run (<see cref="Calibrator"/> finds those first).
/// The input model is not changed: the view shares everything but the graphs on the way from the main graph to a
/// subgraph with something exposed.
/// </summary>
internal sealed class BranchExposure
{
    private readonly Dictionary<string, string> _outputs;
    private readonly Dictionary<string, int> _loops;
    private readonly HashSet<string> _flattened;

    private BranchExposure(OnnxModel model, Dictionary<string, string> outputs, Dictionary<string, int> loops, HashSet<string> flattened)
    {
        Model = model;
        _outputs = outputs;
        _loops = loops;
        _flattened = flattened;
    }

    /// <summary>The model to open a session on: the input model itself when no requested tensor is inside a branch.</summary>
    public OnnxModel Model { get; }

    /// <summary>The main-graph name under which <paramref name="tensor"/> can be fetched (the name itself for a main-graph tensor).</summary>
    public string OutputName(string tensor) => _outputs.GetValueOrDefault(tensor, tensor);

    /// <summary>
    /// How many Loop/Scan nodes <paramref name="tensor"/> is stacked through: the fetched value has that many leading
    /// iteration axes in front of the tensor's own (a channel axis counted from the front moves by as many).
    /// </summary>
    public int LeadingAxes(string tensor) => _loops.GetValueOrDefault(tensor);

    /// <summary>
    /// True when <paramref name="tensor"/> (of an If branch inside a Loop body) is fetched as the flat concatenation of its
    /// values in the iterations that computed it: every value is there, its axes are not.
    /// </summary>
    public bool IsFlattened(string tensor) => _flattened.Contains(tensor);

    /// <summary>A view of <paramref name="model"/> exposing those of <paramref name="tensors"/> that If branches compute.</summary>
    public static BranchExposure Create(OnnxModel model, IReadOnlyList<string> tensors)
    {
        ArgumentNullException.ThrowIfNull(model);
        var wanted = new HashSet<string>(tensors, StringComparer.Ordinal);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        var loops = new Dictionary<string, int>(StringComparer.Ordinal);
        var flattened = new HashSet<string>(StringComparer.Ordinal);
        if (!model.Graph.Nodes.Any(n => Branches.Of(n).Any()))
        {
            return new BranchExposure(model, outputs, loops, flattened);
        }

        var rewriter = new Rewriter(wanted, new NameTable(model.Graph), loops, flattened);
        (Graph? main, List<(string Tensor, string Name)> exposed) = rewriter.Expose(model.Graph, isSubgraph: false, isBody: false);
        foreach ((string tensor, string name) in exposed)
        {
            outputs[tensor] = name;
        }

        return new BranchExposure(main is null ? model : ModelClone.WithMainGraph(model, main), outputs, loops, flattened);
    }

    private sealed class Rewriter(HashSet<string> wanted, NameTable names, Dictionary<string, int> loops, HashSet<string> flattened)
    {
        // Tensors exposed through an If: empty in runs that take the other branch.
        private readonly HashSet<string> ragged = new(StringComparer.Ordinal);

        /// <summary>
        /// The copy of <paramref name="graph"/> with its wanted tensors (and those of its subgraphs) added as outputs, or
        /// null when nothing under it is wanted; and for each exposed tensor, the name it has in <paramref name="graph"/>.
        /// </summary>
        public (Graph? Graph, List<(string Tensor, string Name)> Exposed) Expose(Graph graph, bool isSubgraph, bool isBody)
        {
            var exposed = new List<(string Tensor, string Name)>();
            var nodes = new List<Node>();
            var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
            bool changed = false;
            if (isBody)
            {
                // A body's inputs change every iteration (carried state, scan slices): exposed through an Identity, since
                // ONNX Runtime passes a body input that is also a body output straight through as a loop-carried value.
                foreach (ValueInfo input in graph.Inputs.Where(i => wanted.Contains(i.Name)))
                {
                    string name = names.Take(input.Name + "_observed");
                    nodes.Add(new Node { Name = names.Take(name + "_Identity"), OpType = "Identity", Inputs = { input.Name }, Outputs = { name } });
                    exposed.Add((input.Name, name));
                    changed = true;
                }
            }

            foreach (Node node in graph.Nodes)
            {
                var observed = new List<Node>();
                if (isSubgraph)
                {
                    foreach (string output in node.Outputs.Where(o => o.Length > 0 && wanted.Contains(o)))
                    {
                        // Already a subgraph output: exposed again under a name of its own, so no name is listed twice.
                        string name = output;
                        if (outputs.Contains(output))
                        {
                            name = names.Take(output + "_observed");
                            observed.Add(new Node { Name = names.Take(name + "_Identity"), OpType = "Identity", Inputs = { output }, Outputs = { name } });
                            changed = true;
                        }

                        exposed.Add((output, name));
                    }
                }

                Node? rewritten = ExposeThrough(node, exposed, nodes);
                nodes.Add(rewritten ?? node);
                nodes.AddRange(observed);
                changed |= rewritten is not null;
            }

            if (!changed && exposed.Count == 0)
            {
                return (null, exposed);
            }

            // A branch's outputs are added by its If, in the same order in both branches (ORT matches them by position);
            // a body's after its scan outputs, one extra scan output each.
            Graph copy = ModelClone.WithoutNodes(graph);
            copy.Nodes.AddRange(nodes);
            return (copy, exposed);
        }

        // An If whose branches expose something: a copy with one extra output per exposed tensor, each branch returning
        // it (or an empty dummy when the other branch computes it).
        private Node? ExposeThrough(Node node, List<(string Tensor, string Name)> exposed, List<Node> before)
        {
            if (Branches.IsLoop(node))
            {
                return ExposeThroughLoop(node, exposed, before);
            }

            var branches = new List<(NodeAttribute Attribute, Graph? Graph, List<(string Tensor, string Name)> Exposed)>();
            foreach (NodeAttribute attribute in Branches.Of(node))
            {
                (Graph? g, List<(string Tensor, string Name)> e) = Expose(attribute.Graph!, isSubgraph: true, isBody: false);
                branches.Add((attribute, g, e));
            }

            List<string> all = branches.SelectMany(b => b.Exposed.Select(e => e.Tensor)).Distinct(StringComparer.Ordinal).ToList();
            if (all.Count == 0)
            {
                return null;
            }

            Node copy = ModelClone.Copy(node, shareAttributes: true);
            foreach ((NodeAttribute attribute, Graph? g, List<(string Tensor, string Name)> e) in branches)
            {
                Graph branch = g ?? CopyOf(attribute.Graph!);
                var inBranch = e.ToDictionary(x => x.Tensor, x => x.Name, StringComparer.Ordinal);
                foreach (string tensor in all)
                {
                    if (!inBranch.TryGetValue(tensor, out string? name))
                    {
                        name = names.Take(tensor + "_not_taken");
                        branch.Nodes.Add(EmptyFloat(name));
                    }

                    branch.Outputs.Add(FloatValue(name));
                }

                int at = copy.Attributes.FindIndex(a => ReferenceEquals(a, attribute));
                copy.Attributes.Replace(at, NodeAttribute.FromGraph(attribute.Name, branch));
            }

            foreach (string tensor in all)
            {
                string name = names.Take(tensor + "_exposed");
                copy.Outputs.Add(name);
                exposed.Add((tensor, name));
                // Empty in a run that takes the other branch: a shape a scan output cannot have in some iterations only.
                ragged.Add(tensor);
            }

            return copy;
        }

        // A Loop or Scan whose body exposes something: a copy with one extra scan output per exposed tensor. A Loop's body
        // outputs are the condition, N carried values and K scan outputs, and the node's the N final values and K
        // stacked scan outputs; a Scan's are N states and K scan outputs both. Trailing outputs the node leaves out are
        // written as empty names first, so the new ones line up with the body's. A tensor of an If branch in a Loop body
        // is empty in the iterations that take the other branch, so it cannot be stacked: it is gathered instead in an
        // extra carried value that starts empty and grows by the flattened tensor every iteration (Concat on axis 0),
        // which ONNX Runtime allows a Loop's (not a Scan's) carried values to do.
        private Node? ExposeThroughLoop(Node node, List<(string Tensor, string Name)> exposed, List<Node> before)
        {
            NodeAttribute attribute = Branches.Of(node).Single();
            (Graph? body, List<(string Tensor, string Name)> inner) = Expose(attribute.Graph!, isSubgraph: true, isBody: true);
            if (body is null || inner.Count == 0)
            {
                return null;
            }

            Node copy = ModelClone.Copy(node, shareAttributes: true);
            bool loop = node.OpType == "Loop";
            int declared = attribute.Graph!.Outputs.Count - (loop ? 1 : 0);
            while (copy.Outputs.Count < declared)
            {
                copy.Outputs.Add(string.Empty);
            }

            List<(string Tensor, string Name)> gathered = loop ? inner.Where(e => ragged.Contains(e.Tensor)).ToList() : new();
            if (gathered.Count > 0)
            {
                Gather(copy, body, attribute.Graph!.Inputs.Count - 2, gathered, exposed, before);
            }

            foreach ((string tensor, string name) in inner.Except(gathered))
            {
                body.Outputs.Add(FloatValue(name));
                string outer = names.Take(tensor + "_exposed");
                copy.Outputs.Add(outer);
                exposed.Add((tensor, outer));
                loops[tensor] = loops.GetValueOrDefault(tensor) + 1;
            }

            copy.Attributes.Replace(copy.Attributes.FindIndex(a => ReferenceEquals(a, attribute)), NodeAttribute.FromGraph(attribute.Name, body));
            foreach (string scanAttribute in new[] { "scan_output_axes", "scan_output_directions" })
            {
                int at = copy.Attributes.FindIndex(a => a.Name == scanAttribute);
                if (node.OpType == "Scan" && at >= 0)
                {
                    copy.Attributes.Replace(at, NodeAttribute.FromInts(scanAttribute, copy.Attributes[at].Ints.Concat(inner.Select(_ => 0L)).ToArray()));
                }
            }

            return copy;
        }

        private void Gather(Node copy, Graph body, int carried, List<(string Tensor, string Name)> gathered, List<(string Tensor, string Name)> exposed, List<Node> before)
        {
            string empty = names.Take("observed_empty");
            before.Add(EmptyFloat(empty));
            string flatShape = names.Take("observed_flat_shape");
            body.Nodes.Add(ConstantNode(flatShape, Rewrites.GraphConstants.Int64s(flatShape, [-1], 1)));
            for (int i = 0; i < gathered.Count; i++)
            {
                (string tensor, string name) = gathered[i];
                string soFar = names.Take(tensor + "_gathered_in");
                string flat = names.Take(tensor + "_flat");
                string grown = names.Take(tensor + "_gathered");
                body.Inputs.Add(FloatValue(soFar));
                body.Nodes.Add(new Node { Name = names.Take(flat + "_Reshape"), OpType = "Reshape", Inputs = { name, flatShape }, Outputs = { flat } });
                body.Nodes.Add(new Node { Name = names.Take(grown + "_Concat"), OpType = "Concat", Inputs = { soFar, flat }, Outputs = { grown }, Attributes = { NodeAttribute.FromInt("axis", 0) } });
                body.Outputs.Insert(1 + carried + i, FloatValue(grown));
                copy.Inputs.Add(empty);
                string outer = names.Take(tensor + "_exposed");
                copy.Outputs.Insert(carried + i, outer);
                exposed.Add((tensor, outer));
                flattened.Add(tensor);
            }
        }

        private Node ConstantNode(string name, TensorValue value)
        {
            var constant = new Node { Name = names.Take(name + "_Constant"), OpType = "Constant" };
            constant.Outputs.Add(name);
            constant.Attributes.Add(NodeAttribute.FromTensor("value", value));
            return constant;
        }

        // A Constant node giving an empty float tensor: the value of an exposed tensor where nothing computed it.
        private Node EmptyFloat(string name) =>
            ConstantNode(name, new TensorValue { Name = name, ElementType = ElementType.Float, Dims = new long[] { 0 }, Data = Array.Empty<byte>() });

        private static Graph CopyOf(Graph graph)
        {
            Graph copy = ModelClone.WithoutNodes(graph);
            copy.Nodes.AddRange(graph.Nodes);
            return copy;
        }

        private static ValueInfo FloatValue(string name) => new() { Name = name, Type = new TensorTypeInfo { ElementType = ElementType.Float } };
    }
}
