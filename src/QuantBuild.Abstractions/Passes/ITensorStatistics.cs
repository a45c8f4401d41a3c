namespace QuantBuild.Abstractions.Passes;

/// <summary>What the host observed of one float tensor over the calibration data, with the model as the pass left it.</summary>
public interface ITensorStatistics
{
    /// <summary>The tensor's name.</summary>
    string Name { get; }

    /// <summary>Smallest finite value seen.</summary>
    float Min { get; }

    /// <summary>Largest finite value seen.</summary>
    float Max { get; }

    /// <summary>Values seen.</summary>
    long Count { get; }

    /// <summary>Absolute maximum per channel along the axis the pass asked for; empty when it asked for none.</summary>
    IReadOnlyList<float> ChannelAbsMax { get; }

    /// <summary>The value below which <paramref name="fraction"/> (0 to 1) of the values lie, from a histogram.</summary>
    double Quantile(double fraction);
}
