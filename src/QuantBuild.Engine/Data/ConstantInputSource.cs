using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Data;

/// <summary>
/// A data source plus the inputs quantize.yaml binds to constants (<c>inputs:</c>): the constants ride along with
/// every read, unbatched, so a model with a 0-d sample rate or a state tensor can be fed from files that hold only
/// its batched inputs. <see cref="Batcher"/> reads <see cref="Constants"/> to leave them out of batch sizing. A streamed
/// input (<c>stream: output</c>) is read here as its first window's value; the loops that run windows in order replace
/// it with the model's own output through <see cref="StreamFeedback"/>.
/// </summary>
public sealed class ConstantInputSource : IDataSource
{
    private readonly IDataSource _inner;
    private readonly List<string> _names;

    private ConstantInputSource(IDataSource inner, IReadOnlyDictionary<string, DenseTensor> constants, IReadOnlyDictionary<string, string> streams)
    {
        _inner = inner;
        Constants = constants;
        Streams = streams;
        _names = inner.Names.Concat(constants.Keys).ToList();
    }

    /// <summary>The bound inputs and the tensor each is fed (a streamed input's first value).</summary>
    public IReadOnlyDictionary<string, DenseTensor> Constants { get; }

    /// <summary>Streamed inputs and the output each is fed from after the first window.</summary>
    public IReadOnlyDictionary<string, string> Streams { get; }

    /// <inheritdoc />
    public string Description => _inner.Description;

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _names;

    /// <inheritdoc />
    public long SampleCount => _inner.SampleCount;

    /// <summary>The model inputs the data files must hold: every real input not bound in <paramref name="bindings"/>.</summary>
    public static IReadOnlyList<string> DataInputs(OnnxModel model, IReadOnlyList<InputBindingConfig> bindings) =>
        Batcher.ModelInputs(model).Select(i => i.Name).Where(n => !bindings.Any(b => b.Name == n)).ToList();

    /// <summary>
    /// <paramref name="inner"/> with <paramref name="bindings"/> made into tensors of the model's input types, or
    /// <paramref name="inner"/> itself when nothing is bound; float32 data for a float16/bfloat16 input is converted
    /// as it is read (<see cref="HalfPrecisionInputSource"/>).
    /// </summary>
    /// <exception cref="QuantBuildException">
    /// QB1303 a bound name is not a model input; QB1304 its shape or value does not fit the input; QB1307 a streamed
    /// output is not an output of the model or does not have the input's type and shape.
    /// </exception>
    public static IDataSource Wrap(IDataSource inner, OnnxModel model, IReadOnlyList<InputBindingConfig> bindings)
    {
        inner = HalfPrecisionInputSource.Wrap(inner, model);
        if (bindings.Count == 0)
        {
            return inner;
        }

        try
        {
            IReadOnlyList<ValueInfo> inputs = Batcher.ModelInputs(model);
            var constants = new Dictionary<string, DenseTensor>(StringComparer.Ordinal);
            var streams = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (InputBindingConfig binding in bindings)
            {
                ValueInfo input = inputs.FirstOrDefault(i => i.Name == binding.Name) ?? throw new QuantBuildException("QB1303",
                    $"'inputs.{binding.Name}': the model has no input '{binding.Name}'.{NameSuggester.DidYouMean(binding.Name, inputs.Select(i => i.Name))}",
                    $"bind one of the model's inputs: {string.Join(", ", inputs.Select(i => i.Name))}", binding.Location.File, binding.Location.Line, binding.Location.Column);
                constants[binding.Name] = Materialize(binding, input);
                if (binding.Stream is { } stream)
                {
                    CheckStream(binding, stream, constants[binding.Name], model);
                    streams[binding.Name] = stream;
                }
            }

            return new ConstantInputSource(inner, constants, streams);
        }
        catch
        {
            inner.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, DenseTensor> Read(long start, int count)
    {
        var read = new Dictionary<string, DenseTensor>(_inner.Read(start, count), StringComparer.Ordinal);
        foreach ((string name, DenseTensor value) in Constants)
        {
            read[name] = value;
        }

        return read;
    }

    /// <inheritdoc />
    public void Dispose() => _inner.Dispose();

    private static DenseTensor Materialize(InputBindingConfig binding, ValueInfo input)
    {
        TensorShape? modelShape = input.TensorType?.Shape;
        long[] shape;
        if (binding.Shape is { } written)
        {
            shape = written.ToArray();
            bool fits = modelShape is null || (modelShape.Rank == shape.Length
                && modelShape.Dims.Select((d, i) => d.Value is not long v || v == shape[i]).All(ok => ok));
            if (!fits)
            {
                throw Misfit(binding, $"shape [{string.Join(",", shape)}] does not fit the model's {modelShape}", "write a shape with the model's rank and its fixed sizes");
            }
        }
        else if (modelShape is { IsFullyKnown: true })
        {
            shape = modelShape.Dims.Select(d => d.Value!.Value).ToArray();
        }
        else
        {
            throw Misfit(binding, $"the model's input is {modelShape?.ToString() ?? "of unknown shape"}, so its shape cannot be taken from the model",
                "add 'shape: [...]' with every size (for example [2, 1, 128])");
        }

        long count = shape.Aggregate(1L, (a, b) => a * b);
        double v = binding.Value;
        ElementType type = input.TensorType?.ElementType is { } t and not ElementType.Undefined ? t : ElementType.Float;
        return type switch
        {
            ElementType.Float => Filled(type, (float)v, count, shape),
            ElementType.Double => Filled(type, v, count, shape),
            ElementType.Int64 when Whole(v, long.MinValue, long.MaxValue) => Filled(type, (long)v, count, shape),
            ElementType.Int32 when Whole(v, int.MinValue, int.MaxValue) => Filled(type, (int)v, count, shape),
            ElementType.Int8 when Whole(v, sbyte.MinValue, sbyte.MaxValue) => Filled(type, (sbyte)v, count, shape),
            ElementType.UInt8 when Whole(v, 0, byte.MaxValue) => Filled(type, (byte)v, count, shape),
            ElementType.Bool when v is 0 or 1 => Filled(type, (byte)v, count, shape),
            ElementType.Float or ElementType.Double or ElementType.Int64 or ElementType.Int32 or ElementType.Int8 or ElementType.UInt8 or ElementType.Bool =>
                throw Misfit(binding, $"{v} is not a {ElementTypeInfo.OnnxName(type)} value", $"write a value a {ElementTypeInfo.OnnxName(type)} can hold"),
            _ => throw Misfit(binding, $"the input is {ElementTypeInfo.OnnxName(type)}, which a constant binding cannot fill",
                "feed this input from the data files instead"),
        };
    }

    // The fed-back output must be able to stand in for the input: an output of the model of the same element type, and
    // of the state's shape wherever the model fixes it (free sizes are checked on the first window, QB1308).
    private static void CheckStream(InputBindingConfig binding, string stream, DenseTensor initial, OnnxModel model)
    {
        ValueInfo output = model.Graph.Outputs.FirstOrDefault(o => o.Name == stream) ?? throw new QuantBuildException("QB1307",
            $"'inputs.{binding.Name}.stream': the model has no output '{stream}'.{NameSuggester.DidYouMean(stream, model.Graph.Outputs.Select(o => o.Name))}",
            $"stream one of the model's outputs: {string.Join(", ", model.Graph.Outputs.Select(o => o.Name))}", binding.Location.File, binding.Location.Line, binding.Location.Column);
        if (output.TensorType?.ElementType is { } type and not ElementType.Undefined && type != initial.ElementType)
        {
            throw new QuantBuildException("QB1307",
                $"'inputs.{binding.Name}.stream': output '{stream}' is {ElementTypeInfo.OnnxName(type)} but input '{binding.Name}' is {ElementTypeInfo.OnnxName(initial.ElementType)}, so it cannot be fed back.",
                "stream the output that carries this input's next value (the model's new state)", binding.Location.File, binding.Location.Line, binding.Location.Column);
        }

        long[] dims = initial.ShapeArray();
        if (output.TensorType?.Shape is { } shape && (shape.Rank != dims.Length
            || shape.Dims.Select((d, i) => d.Value is not long v || v == dims[i]).Any(ok => !ok)))
        {
            throw new QuantBuildException("QB1307",
                $"'inputs.{binding.Name}.stream': output '{stream}' is {shape} but the input is fed [{string.Join(",", dims)}], so it cannot be fed back.",
                "stream the output that carries this input's next value, and give 'shape:' the state's shape", binding.Location.File, binding.Location.Line, binding.Location.Column);
        }
    }

    private static bool Whole(double v, double min, double max) => v == Math.Floor(v) && v >= min && v <= max;

    private static DenseTensor Filled<T>(ElementType type, T value, long count, long[] shape) where T : unmanaged
    {
        var values = new T[count];
        Array.Fill(values, value);
        return new DenseTensor(type, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }

    private static QuantBuildException Misfit(InputBindingConfig binding, string why, string fix) =>
        new("QB1304", $"'inputs.{binding.Name}': {why}.", fix, binding.Location.File, binding.Location.Line, binding.Location.Column);
}
