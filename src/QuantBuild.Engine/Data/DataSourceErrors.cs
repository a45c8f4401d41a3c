using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Data;

/// <summary>QB1250–QB1269: data that reads fine but does not fit the model or itself.</summary>
internal static class DataSourceErrors
{
    public static QuantBuildException RowMismatch(string description, string a, long rowsA, string b, long rowsB) => new(
        "QB1250", $"{description}: '{a}' holds {rowsA} samples but '{b}' holds {rowsB}; every input needs the same number.",
        "write the same number of samples for every input, in the same order");

    public static QuantBuildException MissingInput(string description, string input, IEnumerable<string> available) => new(
        "QB1251", $"{description} has no data for model input '{input}' (it has: {string.Join(", ", available)}).",
        "name each array (npz member, .pb tensor name, or yaml key) after the model input it feeds");

    public static QuantBuildException NeedsNamedInputs(string path, IEnumerable<string> inputs) => new(
        "QB1252", $"'{path}' is a single array but the model has several inputs ({string.Join(", ", inputs)}).",
        "give an .npz with one member per input, or map each input to an .npy under `data:`", path);

    public static QuantBuildException EmptyDirectory(string path) => new(
        "QB1253", $"'{path}' holds no test_data_set_N folders with input_K.pb files.",
        "lay the data out as ONNX test data: test_data_set_0/input_0.pb, test_data_set_1/input_0.pb, ...", path);

    public static QuantBuildException ShapeMismatch(string description, string input, string got, string expected) => new(
        "QB1254", $"{description}: samples for input '{input}' have shape {got} but the model expects {expected}.",
        "check the preprocessing that wrote the data; the dimensions after the first (sample) axis must match the model");

    public static QuantBuildException TypeMismatch(string description, string input, string got, string expected) => new(
        "QB1255", $"{description}: input '{input}' is {got} but the model expects {expected}.",
        $"save the array as {expected} (numpy: a.astype(...))");

    public static QuantBuildException NoSamples(string description, long rows, int batch) => new(
        "QB1259", rows == 0
            ? $"{description} holds no samples (0 rows), so there is nothing to calibrate or score."
            : $"{description} holds {rows} samples, fewer than one batch of {batch}, the fixed batch size the model was exported with.",
        rows == 0 ? "write at least one sample (hundreds are typical) along the first axis" : $"supply at least {batch} samples, or export the model with a dynamic batch dimension");

    public static QuantBuildException NonFinite(string description, string input, long row) => new(
        "QB1260", $"{description}: input '{input}' holds NaN or infinity (first at sample {row}).",
        "fix the preprocessing that wrote the data (a division by zero, a missing value); calibration and evaluation need finite inputs");
}
