from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from studio.models import AccessToken, ActivityEvent, Membership, Role, Workspace, name_validator, slug_validator
from studio.permissions import ACTIONS, actions_for
from studio.schema import Tags

User = get_user_model()


class TagsField(Tags):
    """Tags in and out of the API: the schemas' field (studio.schema.Tags, the one tag rule), shown
    as a plain mapping."""

    def to_representation(self, value):
        return dict(value or {})


class WorkspaceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(validators=[name_validator], max_length=33)
    tags = TagsField(required=False)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    role = serializers.SerializerMethodField(help_text="The caller's role slug in this workspace.")
    actions = serializers.SerializerMethodField(help_text="What the caller may do here.")

    class Meta:
        model = Workspace
        fields = ["name", "description", "tags", "created_by", "created_at", "role", "actions"]
        read_only_fields = ["created_at"]

    def _membership(self, obj: Workspace):
        """The caller's membership, prefetched by WorkspaceViewSet as `my_memberships`."""
        prefetched = getattr(obj, "my_memberships", None)
        if prefetched is not None:
            return prefetched[0] if prefetched else None
        return obj.memberships.filter(user=self.context["request"].user).select_related("role").first()

    def get_role(self, obj: Workspace) -> str | None:
        membership = self._membership(obj)
        return membership.role.slug if membership else None

    def get_actions(self, obj: Workspace) -> list[str]:
        membership = self._membership(obj)
        have = membership.role.action_set if membership else actions_for(self.context["request"].user, obj)
        return [a for a in ACTIONS if a in have]


class WorkspaceUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    tags = TagsField(required=False)

    def validate(self, attrs):
        unknown = set(self.initial_data) - {"description", "tags"}
        if "name" in unknown:
            raise serializers.ValidationError({"name": ["A workspace cannot be renamed: its name is its address."]})
        return attrs


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField(source="user.email", read_only=True)
    role = serializers.CharField(source="role.slug")
    role_name = serializers.CharField(source="role.name", read_only=True)
    added_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "email", "role", "role_name", "added_by", "created_at"]
        read_only_fields = ["created_at"]


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.CharField(max_length=50)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.CharField(max_length=50)


class RoleSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(validators=[slug_validator], max_length=50)
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ACTIONS)), allow_empty=False, write_only=True
    )

    class Meta:
        model = Role
        fields = ["slug", "name", "description", "builtin", "actions"]
        read_only_fields = ["builtin"]

    def to_representation(self, instance: Role):
        data = super().to_representation(instance)
        data["actions"] = instance.sorted_actions()
        return data


class RoleUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=80)
    description = serializers.CharField(required=False, allow_blank=True, max_length=300)
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ACTIONS)), required=False, allow_empty=False
    )


class ActivitySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    message = serializers.SerializerMethodField()

    class Meta:
        model = ActivityEvent
        fields = ["verb", "actor", "target", "data", "message", "created_at"]

    def get_message(self, obj) -> str:
        from studio.activity import describe

        return describe(obj)


class TokenSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True)

    class Meta:
        model = AccessToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "state"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, default="api")
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    expires_in_days = serializers.IntegerField(required=False, min_value=1, max_value=3650)

    def validate(self, attrs):
        if attrs.get("expires_at") and attrs.get("expires_in_days"):
            raise serializers.ValidationError("Give expires_at or expires_in_days, not both.")
        return attrs


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    class Meta:
        model = User
        fields = ["username", "email", "password", "is_staff", "date_joined"]
        read_only_fields = ["is_staff", "date_joined"]
        extra_kwargs = {"username": {"validators": []}}
