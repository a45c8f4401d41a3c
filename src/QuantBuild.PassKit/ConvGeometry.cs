using QuantBuild.Abstractions.Ir;

namespace QuantBuild.PassKit;

/// <summary>
/// Where a 1-D or 2-D Conv reads its input (im2col): output size, and for every output position and group the patch of
/// C/group · kernel values laid out (c, ky, kx) like a row of the weight matrix, zeros where the kernel reads padding.
/// Resolves every padding mode ONNX defines — explicit <c>pads</c> (NOTSET), <c>VALID</c>, <c>SAME_UPPER</c> and
/// <c>SAME_LOWER</c> (the odd pixel after, or before) — with strides, dilations and groups, so that
/// <c>W[M, C/g·k] · patches</c> is exactly the Conv's output without bias.
/// </summary>
public sealed class ConvGeometry
{
    private ConvGeometry()
    {
    }

    /// <summary>Samples (N).</summary>
    public int Batch { get; private init; }

    /// <summary>Input channels (C).</summary>
    public int Channels { get; private init; }

    /// <summary>Input height (1 for a 1-D conv).</summary>
    public int Height { get; private init; }

    /// <summary>Input width.</summary>
    public int Width { get; private init; }

    /// <summary>Conv groups.</summary>
    public int Groups { get; private init; }

    /// <summary>Kernel height (1 for a 1-D conv).</summary>
    public int KernelHeight { get; private init; }

    /// <summary>Kernel width.</summary>
    public int KernelWidth { get; private init; }

    /// <summary>Strides (y, x).</summary>
    public (int Y, int X) Strides { get; private init; }

    /// <summary>Dilations (y, x).</summary>
    public (int Y, int X) Dilations { get; private init; }

    /// <summary>Padding before and after each axis, resolved from <c>auto_pad</c> or <c>pads</c>.</summary>
    public (int Top, int Left, int Bottom, int Right) Pads { get; private init; }

    /// <summary>Output height.</summary>
    public int OutputHeight { get; private init; }

    /// <summary>Output width.</summary>
    public int OutputWidth { get; private init; }

    /// <summary>Input channels per group.</summary>
    public int GroupChannels => Channels / Groups;

    /// <summary>Values in one patch: C/group · kernel elements, the weight matrix's column count.</summary>
    public int PatchLength => GroupChannels * KernelHeight * KernelWidth;

    /// <summary>Output positions over the batch (N · OH · OW): patches per group.</summary>
    public long Positions => (long)Batch * OutputHeight * OutputWidth;

    /// <summary>The geometry of <paramref name="conv"/> with weight dims <paramref name="weightDims"/> on an input of shape <paramref name="inputShape"/>.</summary>
    /// <exception cref="ArgumentException">Not a 1-D/2-D conv, or the shapes do not fit; the message says which.</exception>
    public static ConvGeometry For(Node conv, long[] weightDims, long[] inputShape) =>
        TryFor(conv, weightDims, inputShape, out string? why) ?? throw new ArgumentException($"{conv.DisplayName}: {why}");

    /// <summary>As <see cref="For"/>, or null with <paramref name="why"/>.</summary>
    public static ConvGeometry? TryFor(Node conv, long[] weightDims, long[] inputShape, out string? why)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(weightDims);
        ArgumentNullException.ThrowIfNull(inputShape);
        why = null;
        int spatial = inputShape.Length - 2;
        if (spatial is not (1 or 2) || weightDims.Length != inputShape.Length)
        {
            why = $"im2col covers 1-D and 2-D convolutions (input rank {inputShape.Length}, weight rank {weightDims.Length})";
            return null;
        }

        int groups = (int)(conv.FindAttribute("group")?.Int ?? 1);
        int channels = (int)inputShape[1];
        if (groups < 1 || weightDims[1] * groups != channels)
        {
            why = $"input has {channels} channels, the weight expects {weightDims[1]}×{groups}";
            return null;
        }

        // A 1-D conv is a 2-D one over a height of 1.
        int[] size = spatial == 2 ? [(int)inputShape[2], (int)inputShape[3]] : [1, (int)inputShape[2]];
        int[] kernel = spatial == 2 ? [(int)weightDims[2], (int)weightDims[3]] : [1, (int)weightDims[2]];
        int[] strides = Spatial(Ints(conv, "strides", spatial, 1), spatial, 1);
        int[] dilations = Spatial(Ints(conv, "dilations", spatial, 1), spatial, 1);
        int[] begin = new int[2], end = new int[2], output = new int[2];
        string autoPad = conv.FindAttribute("auto_pad")?.StringValue is { Length: > 0 } a ? a : "NOTSET";
        int[] pads = Ints(conv, "pads", 2 * spatial, 0);
        for (int d = 0; d < 2; d++)
        {
            int extent = dilations[d] * (kernel[d] - 1) + 1;
            int axis = d - (2 - spatial);
            switch (autoPad)
            {
                case "NOTSET":
                    (begin[d], end[d]) = axis < 0 ? (0, 0) : (pads[axis], pads[axis + spatial]);
                    break;
                case "VALID":
                    break;
                case "SAME_UPPER" or "SAME_LOWER":
                    // Output ceil(in / stride); the odd pad goes at the end for SAME_UPPER, at the start for SAME_LOWER.
                    int wanted = (size[d] + strides[d] - 1) / strides[d];
                    int total = Math.Max(0, (wanted - 1) * strides[d] + extent - size[d]);
                    begin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[d] = total - begin[d];
                    break;
                default:
                    why = $"auto_pad '{autoPad}' is not an ONNX padding mode";
                    return null;
            }

            output[d] = (size[d] + begin[d] + end[d] - extent) / strides[d] + 1;
            if (output[d] < 1)
            {
                why = "the kernel is larger than the padded input";
                return null;
            }
        }

        return new ConvGeometry
        {
            Batch = (int)inputShape[0],
            Channels = channels,
            Height = size[0],
            Width = size[1],
            Groups = groups,
            KernelHeight = kernel[0],
            KernelWidth = kernel[1],
            Strides = (strides[0], strides[1]),
            Dilations = (dilations[0], dilations[1]),
            Pads = (begin[0], begin[1], end[0], end[1]),
            OutputHeight = output[0],
            OutputWidth = output[1],
        };
    }

    /// <summary>
    /// Writes the patches of group <paramref name="group"/> at output positions <paramref name="start"/> …
    /// <paramref name="start"/> + <paramref name="count"/> − 1 (position = (n·OH + oy)·OW + ox) into
    /// <paramref name="rows"/>, one row of <see cref="PatchLength"/> values each. <paramref name="x"/> is the input, NCHW.
    /// </summary>
    public void Patches(ReadOnlySpan<float> x, int group, long start, int count, Span<float> rows)
    {
        int k = PatchLength;
        for (int r = 0; r < count; r++)
        {
            Patch(x, group, start + r, rows.Slice(r * k, k));
        }
    }

    /// <summary>Writes the patch of group <paramref name="group"/> at output position <paramref name="position"/> into <paramref name="patch"/>.</summary>
    public void Patch(ReadOnlySpan<float> x, int group, long position, Span<float> patch)
    {
        int perSample = OutputHeight * OutputWidth;
        int sample = (int)(position / perSample);
        int rest = (int)(position % perSample);
        int oy = rest / OutputWidth, ox = rest % OutputWidth;
        int cg = GroupChannels, h = Height, w = Width;
        int o = 0;
        for (int ci = 0; ci < cg; ci++)
        {
            long plane = ((long)sample * Channels + group * cg + ci) * h * w;
            for (int ky = 0; ky < KernelHeight; ky++)
            {
                int iy = oy * Strides.Y - Pads.Top + ky * Dilations.Y;
                for (int kx = 0; kx < KernelWidth; kx++, o++)
                {
                    int ix = ox * Strides.X - Pads.Left + kx * Dilations.X;
                    patch[o] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(int)(plane + (long)iy * w + ix)] : 0f;
                }
            }
        }
    }

    private static int[] Ints(Node node, string name, int count, int fill)
    {
        NodeAttribute? a = node.FindAttribute(name);
        return a is null || a.Ints.Count == 0 ? Enumerable.Repeat(fill, count).ToArray() : a.Ints.Select(v => (int)v).ToArray();
    }

    private static int[] Spatial(int[] values, int spatial, int fill) => spatial == 2 ? values : [fill, values[0]];
}
