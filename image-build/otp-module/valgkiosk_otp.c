// SPDX-License-Identifier: GPL-2.0-only
/*
 * valgkiosk_otp: the Raspberry Pi's OTP rows, read through the board's firmware
 * mailbox, as read-only nvmem devices for root:
 *
 *   /sys/bus/nvmem/devices/valgkiosk-otp-private/nvmem   8 rows (32 bytes): the
 *       "private key" rows (firmware tag 0x00030081, what rpi-otp-private-key reads;
 *       Pi 4, Pi 5 and later firmware)
 *   /sys/bus/nvmem/devices/valgkiosk-otp-customer/nvmem  8 rows (32 bytes): the
 *       customer rows (tag 0x00030021)
 *
 * Each row is one 32-bit word as the firmware returns it (little-endian in the file).
 * Why: the kiosk's image runs Debian's arm64 kernel, which has the firmware driver
 * (CONFIG_RASPBERRYPI_FIRMWARE) but neither /dev/vcio nor an OTP nvmem driver, and the
 * data partition's key is derived from the private-key rows (docs/personal-data.md).
 *
 * Read only: this module sends no tag that writes OTP, and has no nvmem write hook.
 * Every read asks the firmware again and checks its answer (call status, the tag's
 * response bit and length, the row offset and count echoed back); anything else is
 * -EIO, never bytes that were not read. Where there is no Raspberry Pi firmware node
 * (QEMU's virt machine, any other board) the module refuses to load (-ENODEV) and says
 * why in the kernel log.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/module.h>
#include <linux/nvmem-provider.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <soc/bcm2835/raspberrypi-firmware.h>

#define OTP_ROWS 8
/* The tag's response: bit 31 set, and the length of what the firmware wrote. */
#define TAG_RESPONSE BIT(31)

/* The firmware tags that READ OTP rows (the write tags are deliberately absent). */
#define TAG_GET_CUSTOMER_OTP 0x00030021
#define TAG_GET_PRIVATE_KEY 0x00030081

struct otp_bank {
	const char *name;
	u32 tag;
};

static const struct otp_bank banks[] = {
	{ "valgkiosk-otp-private", TAG_GET_PRIVATE_KEY },
	{ "valgkiosk-otp-customer", TAG_GET_CUSTOMER_OTP },
};

/* One request in the firmware's property format: header, start row, count, rows. */
struct otp_msg {
	struct rpi_firmware_property_tag_header hdr;
	u32 start;
	u32 count;
	u32 rows[OTP_ROWS];
} __packed;

static struct rpi_firmware *fw;
static struct platform_device *pdev;
static struct nvmem_device *nvmem[ARRAY_SIZE(banks)];

/* The nvmem devices unregistered (before the module's code goes), then their parent. */
static void otp_remove_all(void)
{
	int i;

	for (i = ARRAY_SIZE(banks) - 1; i >= 0; i--) {
		if (!IS_ERR_OR_NULL(nvmem[i]))
			nvmem_unregister(nvmem[i]);
		nvmem[i] = NULL;
	}
	platform_device_unregister(pdev);
}

static int otp_read(void *priv, unsigned int offset, void *val, size_t bytes)
{
	const struct otp_bank *bank = priv;
	u32 start = offset / 4, count = bytes / 4, want;
	struct otp_msg *msg;
	int ret;

	if (offset % 4 || bytes % 4 || !count || start + count > OTP_ROWS)
		return -EINVAL;
	msg = kzalloc(sizeof(*msg), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	msg->hdr.tag = bank->tag;
	msg->hdr.buf_size = sizeof(*msg) - sizeof(msg->hdr);
	msg->hdr.req_resp_size = 0;
	msg->start = start;
	msg->count = count;
	ret = rpi_firmware_property_list(fw, msg, sizeof(*msg));
	want = 2 * sizeof(u32) + count * sizeof(u32);
	if (ret) {
		pr_err("%s: the firmware call failed (%d)\n", bank->name, ret);
		ret = -EIO;
	} else if (!(msg->hdr.req_resp_size & TAG_RESPONSE) ||
		   (msg->hdr.req_resp_size & ~TAG_RESPONSE) != want) {
		/* e.g. firmware (or an emulator) that does not know the tag: length 0 */
		pr_err("%s: the firmware did not answer tag %#010x (response %#010x, want %u bytes)\n",
		       bank->name, bank->tag, msg->hdr.req_resp_size, want);
		ret = -EIO;
	} else if (msg->start != start || msg->count != count) {
		pr_err("%s: the firmware answered rows %u+%u, not %u+%u\n", bank->name,
		       msg->start, msg->count, start, count);
		ret = -EIO;
	} else {
		memcpy(val, msg->rows, bytes);
	}
	kfree_sensitive(msg);
	return ret;
}

static int __init otp_init(void)
{
	struct nvmem_config config = {};
	struct device_node *np;
	int i, ret;

	np = of_find_compatible_node(NULL, NULL, "raspberrypi,bcm2835-firmware");
	if (!np) {
		pr_info("no Raspberry Pi firmware node (not a Raspberry Pi): no OTP to expose\n");
		return -ENODEV;
	}
	fw = rpi_firmware_get(np);
	of_node_put(np);
	if (!fw) {
		pr_err("the Raspberry Pi firmware driver has not probed: no OTP\n");
		return -ENODEV;
	}
	pdev = platform_device_register_simple("valgkiosk-otp", PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto put_fw;
	}
	config.dev = &pdev->dev;
	config.owner = THIS_MODULE;
	config.id = NVMEM_DEVID_NONE;
	config.read_only = true;
	config.root_only = true;
	config.word_size = 4;
	config.stride = 4;
	config.size = OTP_ROWS * 4;
	config.reg_read = otp_read;
	for (i = 0; i < ARRAY_SIZE(banks); i++) {
		config.name = banks[i].name;
		config.priv = (void *)&banks[i];
		/* not devm: the nvmem device holds its parent, whose devres would never run */
		nvmem[i] = nvmem_register(&config);
		if (IS_ERR(nvmem[i])) {
			ret = PTR_ERR(nvmem[i]);
			pr_err("%s: nvmem_register failed (%d)\n", banks[i].name, ret);
			goto unregister;
		}
	}
	pr_info("OTP rows (read only, root only): /sys/bus/nvmem/devices/%s, %s\n",
		banks[0].name, banks[1].name);
	return 0;

unregister:
	otp_remove_all();
put_fw:
	rpi_firmware_put(fw);
	return ret;
}

static void __exit otp_exit(void)
{
	otp_remove_all();
	rpi_firmware_put(fw);
}

module_init(otp_init);
module_exit(otp_exit);

MODULE_AUTHOR("valgkiosk");
MODULE_DESCRIPTION("Raspberry Pi OTP rows (private key, customer) as read-only nvmem, through the firmware mailbox");
MODULE_LICENSE("GPL");
