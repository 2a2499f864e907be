"""tools/replacement_table.py, the regeneration of the replacement table, on a snapshot laid out as the provider
index is (one file per Go function, a master index naming each type's functions), with small schemas written for
this test: an SDKv2 resource (nested blocks, a helper, a constant name, CustomizeDiff) and a framework one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tools import replacement_table

SDK_RESOURCE = """package ec2
// ForceNew: true in a comment is not a schema
func resourceWidget() *schema.Resource {
	return &schema.Resource{
		CreateWithoutTimeout: resourceWidgetCreate,
		Schema: map[string]*schema.Schema{
			"name": {
				Type:     schema.TypeString,
				Required: true,
				ForceNew: true,
			},
			names.AttrVPCID: {
				Type:     schema.TypeString,
				Optional: true,
				ForceNew: true,
			},
			widgetSize: {
				Type:     schema.TypeInt,
				Optional: true,
			},
			"config": {
				Type:     schema.TypeList,
				Optional: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"subnet_ids": {Type: schema.TypeSet, Required: true, ForceNew: true},
						"endpoint":   {Type: schema.TypeBool, Optional: true},
					},
				},
			},
			"policy": policySchema(),
			names.AttrTags: tftags.TagsSchema(),
		},
		CustomizeDiff: customdiff.Sequence(
			widgetCustomizeDiff,
		),
		Timeouts: &schema.ResourceTimeout{},
	}
}
"""
HELPER = """func policySchema() *schema.Schema {
	return &schema.Schema{Type: schema.TypeString, Optional: true, ForceNew: true}
}
"""
CUSTOMIZE = """func widgetCustomizeDiff(ctx context.Context, d *schema.ResourceDiff, meta any) error {
	if d.HasChange("mode") {
		return d.ForceNew("mode")
	}
	return nil
}
"""
CONSTANT = 'var widgetSize = "size"\n'
FRAMEWORK = """func (r *gadgetResource) Schema(ctx context.Context, request resource.SchemaRequest, response *resource.SchemaResponse) {
	response.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"cluster_name": schema.StringAttribute{
				Required: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplace(),
				},
			},
			"role": schema.StringAttribute{
				Optional: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
			},
			"description": schema.StringAttribute{Optional: true},
		},
		Blocks: map[string]schema.Block{
			"target": schema.ListNestedBlock{
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"arn": schema.StringAttribute{
							Required:      true,
							PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
						},
					},
				},
			},
		},
	}
}
"""
MASTER = {"services": [{
    "service_name": "ec2",
    "aws_sdk_resources": {"aws_widget": {}},
    "aws_framework_resources": {"aws_gadget": {"struct_type": "gadgetResource"}},
    "resource_crud_methods": {"aws_widget": {"create_method": "resourceWidgetCreate"}},
}]}


def _snapshot(tmp_path: Path) -> Path:
    files = {
        "index/terraform-provider-aws-index.json": json.dumps(MASTER),
        "index/internal/service/ec2/func.resourceWidget.goindex": SDK_RESOURCE,
        "index/internal/service/ec2/func.policySchema.goindex": HELPER,
        "index/internal/service/ec2/func.widgetCustomizeDiff.goindex": CUSTOMIZE,
        "index/internal/service/ec2/var.widgetSize.goindex": CONSTANT,
        "index/internal/service/ec2/method.gadgetResource.Schema.goindex": FRAMEWORK,
    }
    work = tmp_path / "index"
    for path, content in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(content)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], check=True)
    subprocess.run([*git, "tag", "v1.0.0"], check=True)
    return work / ".git"


def test_the_table_is_read_from_sdk_and_framework_schemas(tmp_path, capsys):
    git_dir = _snapshot(tmp_path)
    rows = replacement_table.table(replacement_table.Snapshot(git_dir, "v1.0.0"), ["aws_widget", "aws_gadget",
                                                                                    "aws_missing"])
    widget, gadget = rows["aws_widget"], rows["aws_gadget"]
    assert widget["force_new"] == ["config.subnet_ids", "name", "policy", "vpc_id"]
    assert widget["conditional"] == {"mode": "CustomizeDiff ForceNew"}
    assert widget["unresolved"] == []  # tags are expected not to be followed
    assert gadget["force_new"] == ["cluster_name", "target.arn"]
    assert gadget["conditional"] == {"role": "stringplanmodifier.RequiresReplaceIfConfigured"}
    assert rows["aws_missing"] == {"missing": "not registered at this tag"}

    assert replacement_table.main([str(git_dir), "--tag", "v1.0.0", "--types", "aws_widget"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert printed["types"]["aws_widget"]["force_new"] == widget["force_new"] and len(printed["commit"]) == 40
    assert "aws_widget: force_new + name" in captured.err  # not a type of the committed table: all new


def test_the_committed_table_names_this_tool_and_its_source():
    data = json.loads((ROOT / "tfgen" / "lifecycle" / "replacement.json").read_text())
    assert data["regenerate"].startswith("python tools/replacement_table.py GIT_DIR --tag v6.58.0")
    assert "lonegunmanb/terraform-provider-aws-index@" in data["source"]
