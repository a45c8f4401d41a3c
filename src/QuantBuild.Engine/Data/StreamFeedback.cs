using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// The recurrent state of one pass over a source's windows in order (quantize.yaml <c>inputs: {x: {stream: y}}</c>):
/// the first window is fed the bound value, every later one the output the model computed on the window before.
/// One pass holds one tensor per stream, whatever the number of windows; the fp32 reference and each quantized
/// candidate run their own pass, so each carries its own state.
/// </summary>
public sealed class StreamFeedback
{
    private readonly IReadOnlyDictionary<string, string> _streams;
    private readonly Dictionary<string, DenseTensor> _state;

    private StreamFeedback(ConstantInputSource source)
    {
        _streams = source.Streams;
        _state = _streams.Keys.ToDictionary(n => n, n => source.Constants[n], StringComparer.Ordinal);
    }

    /// <summary>A fresh pass over <paramref name="data"/>'s streams, or null when it streams nothing.</summary>
    public static StreamFeedback? For(IDataSource data) =>
        data is ConstantInputSource { Streams.Count: > 0 } source ? new StreamFeedback(source) : null;

    /// <summary>
    /// Runs the next window through <paramref name="run"/> (a session's Run): <paramref name="batch"/> fed the state so
    /// far, <paramref name="outputs"/> fetched with the streamed outputs, which are kept as the next window's state.
    /// </summary>
    /// <returns>Every fetched output, the streamed ones included.</returns>
    /// <exception cref="QuantBuildException">QB1308 a streamed output's type or shape differs from its input's.</exception>
    public IReadOnlyDictionary<string, DenseTensor> Run(IReadOnlyDictionary<string, DenseTensor> batch, IReadOnlyList<string> outputs,
        Func<IReadOnlyDictionary<string, DenseTensor>, IReadOnlyList<string>, IReadOnlyDictionary<string, DenseTensor>> run)
    {
        IReadOnlyDictionary<string, DenseTensor> results = run(Feed(batch), Fetch(outputs));
        Take(results);
        return results;
    }

    /// <summary><paramref name="outputs"/> plus the streamed outputs a run must also fetch.</summary>
    private IReadOnlyList<string> Fetch(IReadOnlyList<string> outputs) => outputs.Concat(_streams.Values).Distinct(StringComparer.Ordinal).ToList();

    /// <summary><paramref name="batch"/> with each streamed input replaced by the state so far.</summary>
    private IReadOnlyDictionary<string, DenseTensor> Feed(IReadOnlyDictionary<string, DenseTensor> batch)
    {
        var fed = new Dictionary<string, DenseTensor>(batch, StringComparer.Ordinal);
        foreach ((string input, DenseTensor state) in _state)
        {
            fed[input] = state;
        }

        return fed;
    }

    /// <summary>Keeps the streamed outputs of the window just run as the next window's inputs.</summary>
    /// <exception cref="QuantBuildException">QB1308 an output's type or shape differs from its input's, so it cannot be fed back.</exception>
    private void Take(IReadOnlyDictionary<string, DenseTensor> results)
    {
        foreach ((string input, string output) in _streams)
        {
            DenseTensor next = results[output];
            DenseTensor previous = _state[input];
            if (next.ElementType != previous.ElementType || !next.Shape.SequenceEqual(previous.Shape))
            {
                throw new QuantBuildException("QB1308",
                    $"'inputs.{input}.stream': the model's output '{output}' is {ElementTypeInfo.OnnxName(next.ElementType)} [{string.Join(",", next.ShapeArray())}] but '{input}' is fed {ElementTypeInfo.OnnxName(previous.ElementType)} [{string.Join(",", previous.ShapeArray())}], so it cannot be fed back.",
                    $"give 'inputs.{input}.shape' the shape the model returns in '{output}' (the state's shape at batch 1), or stream another output");
            }

            _state[input] = next;
        }
    }
}
