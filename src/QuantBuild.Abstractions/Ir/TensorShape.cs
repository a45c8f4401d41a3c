namespace QuantBuild.Abstractions.Ir;

/// <summary>A tensor's shape as a model declares it: each dimension fixed, symbolic, or unknown.</summary>
public sealed class TensorShape
{
    /// <summary>The dimensions, outermost first.</summary>
    public IrList<Dimension> Dims { get; } = new();

    /// <summary>The rank.</summary>
    public int Rank => Dims.Count;

    /// <summary>True when every dimension is a fixed number.</summary>
    public bool IsFullyKnown => Dims.All(d => d.Value.HasValue);

    /// <summary>A shape of fixed dimensions.</summary>
    public static TensorShape Of(params long[] dims)
    {
        var shape = new TensorShape();
        foreach (long d in dims)
        {
            shape.Dims.Add(Dimension.Fixed(d));
        }

        return shape;
    }

    /// <summary>Renders as <c>[batch,1,28,28]</c>, with <c>?</c> for unknown dimensions.</summary>
    public override string ToString() => $"[{string.Join(",", Dims)}]";
}
