namespace QuantBuild.Engine.Config;

/// <summary>
/// One model input fed a constant instead of data (quantize.yaml <c>inputs:</c>): a 0-d sample rate, a zero
/// recurrent state, a fixed-shape flag. The value is given once and reused for every batch of calibration and
/// evaluation, never batched. With <see cref="Stream"/>, the value is only the first window's: each later window is
/// fed the named output of the window before it (a recurrent state), so calibration and evaluation run in order.
/// </summary>
/// <param name="Name">The model input it feeds.</param>
/// <param name="Value">The value of every element, converted to the input's element type.</param>
/// <param name="Shape">The tensor's shape, or null to take the model's (which must then be fully fixed).</param>
/// <param name="Location">Where the input's key is written.</param>
/// <param name="Stream">The model output fed back as this input's next value, or null for a constant.</param>
public sealed record InputBindingConfig(string Name, double Value, IReadOnlyList<long>? Shape, SourceLocation Location, string? Stream = null);
